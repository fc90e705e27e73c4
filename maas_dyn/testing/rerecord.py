"""Re-record the cassettes in ``cassettes/`` from the embedded simulators.

::

    python -m maas_dyn.testing.rerecord                 # into ./cassettes
    python -m maas_dyn.testing.rerecord --dir elsewhere/

Each session of :mod:`maas_dyn.testing.scenarios` runs against a freshly started
simulator (seeded, so the data is the same every time) inside
:func:`maas_dyn.testing.record`; the simulators are stopped afterwards. Needs the
``sim`` extra (``websockets``).
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from maas_dyn.testing.cassettes import record
from maas_dyn.testing.scenarios import MAAS_DEPLOY, TRUENAS_POOL_CREATE, TRUENAS_USER

__all__ = ["MAAS_RELEASE", "TRUENAS_RELEASE", "main", "record_maas", "record_truenas"]

MAAS_RELEASE = "3.7"
TRUENAS_RELEASE = "25.10"
# Simulated seconds per second: a 300 s deployment takes a fraction of a second.
MAAS_SPEED = 2000.0
TRUENAS_SPEED = 200.0


def record_maas(directory: Path) -> Path:
    """Record the MAAS deploy session.

    Args:
        directory: Where the cassette goes.

    Returns:
        The cassette's path.
    """
    from maas_dyn.maas import Client
    from maas_dyn.sim.maas import MAASSimulator

    target = directory / MAAS_DEPLOY.cassette
    # The client is built from the shipped description: the cassette holds the session,
    # not the megabyte describe document.
    with MAASSimulator(version=MAAS_RELEASE, machines=1, speed=MAAS_SPEED) as sim, \
            Client.from_release(MAAS_RELEASE, url=sim.url, api_key=sim.api_key,
                                cache=False) as client, \
            record(client, target):
        MAAS_DEPLOY.run(client, **MAAS_DEPLOY.options)
    return target


def record_truenas(directory: Path) -> Path:
    """Record the TrueNAS pool-create session (login, job with progress, query).

    The session logs in as :data:`~maas_dyn.testing.scenarios.TRUENAS_USER`, made for
    the occasion with a random password: the simulator's published administrator has
    its user name as password, so redacting the password would hide the name too.

    Args:
        directory: Where the cassette goes.

    Returns:
        The cassette's path.
    """
    from maas_dyn.sim.truenas import TrueNASSimulator
    from maas_dyn.truenas import Client

    target = directory / TRUENAS_POOL_CREATE.cassette
    password = secrets.token_urlsafe(18)
    with TrueNASSimulator(version=TRUENAS_RELEASE, speed=TRUENAS_SPEED) as sim:
        with Client.from_release(TRUENAS_RELEASE, url=sim.url, username=sim.username,
                                 password=sim.password, cache=False) as admin:
            admin.user.create({"username": TRUENAS_USER, "full_name": "Cassette recorder",
                               "password": password, "group_create": True})
        with Client.from_release(TRUENAS_RELEASE, url=sim.url, username=TRUENAS_USER,
                                 password=password, cache=False) as client, \
                record(client, target):
            TRUENAS_POOL_CREATE.run(client, **TRUENAS_POOL_CREATE.options)
    return target


RECORDERS: dict[str, Callable[[Path], Path]] = {"maas": record_maas, "truenas": record_truenas}


def main(argv: Sequence[str] | None = None) -> int:
    """Record every session (or the dialects named) into a directory.

    Args:
        argv: Command-line arguments (``sys.argv[1:]`` when ``None``).

    Returns:
        The exit code.
    """
    parser = argparse.ArgumentParser(prog="python -m maas_dyn.testing.rerecord",
                                     description="Re-record the cassettes from the simulators.")
    parser.add_argument("--dir", type=Path, default=Path("cassettes"),
                        help="where the cassettes go (default: ./cassettes)")
    parser.add_argument("dialects", nargs="*", metavar="DIALECT",
                        help=f"{' and/or '.join(RECORDERS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.dialects) - set(RECORDERS))
    if unknown:
        parser.error(f"unknown dialect {', '.join(unknown)}; choose from "
                     f"{', '.join(RECORDERS)}")
    for dialect in args.dialects or RECORDERS:
        path = RECORDERS[dialect](args.dir)
        sys.stdout.write(f"recorded {path}\n")
    return 0


if __name__ == "__main__":  # pragma: no cover - python -m maas_dyn.testing.rerecord
    raise SystemExit(main())
