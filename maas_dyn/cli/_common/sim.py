"""``maas-dyn sim maas|truenas ...``: start an embedded simulator from the command line."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

from maas_dyn._dynamic import closest
from maas_dyn.cli._common.exits import UsageError

__all__ = ["SIMULATORS", "main"]

# Server word -> module whose ``main(argv) -> int`` runs that simulator.
SIMULATORS = {
    "maas": "maas_dyn.sim.maas.cli",
    "truenas": "maas_dyn.sim.truenas.cli",
}


def main(argv: list[str]) -> int:
    """Run the simulator named by the first argument with the rest.

    Args:
        argv: ``[SERVER, option...]``.

    Returns:
        The simulator's exit status.

    Raises:
        UsageError: No server word, or an unknown one.
    """
    if argv[:1] in (["-h"], ["--help"]):
        sys.stdout.write(f"usage: maas-dyn sim {'|'.join(SIMULATORS)} [options]\n\n"
              "Run an embedded simulator on 127.0.0.1 until Ctrl-C; it prints its URL and "
              "credentials.\nEach has its own options: `maas-dyn sim maas -h`, "
              "`maas-dyn sim truenas -h`\n(--speed N runs its clock N times faster: a deploy "
              "takes 5 simulated minutes).\n")
        return 0
    if not argv or argv[0] not in SIMULATORS:
        given = argv[0] if argv else ""
        hint = closest(given, SIMULATORS) if given else []
        raise UsageError(
            f"usage: maas-dyn sim {'|'.join(SIMULATORS)} [options]"
            + (f"; unknown simulator {given!r}" if given else "")
            + (f", did you mean {', '.join(hint)}?" if hint else "")
        )
    run: Callable[[list[str]], int] = importlib.import_module(SIMULATORS[argv[0]]).main
    return run(argv[1:])
