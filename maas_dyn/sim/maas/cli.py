"""``maas-dyn sim maas``: run the simulator in the foreground until Ctrl-C or SIGTERM.

``--fault`` and ``--condition`` reach every switch of the Python API
(:class:`~maas_dyn.sim.maas.faults.Faults`, :class:`~maas_dyn.sim.maas.conditions.
Conditions`): the switches and their parameters are read from those classes' method
signatures, so a new switch appears on the command line and in ``-h`` without code here.
Syntax: ``NAME[:key=value,...]``, e.g. ``--fault unavailable:times=3,retry_after=5``,
``--condition stop_service:service=dhcpd``.
"""

from __future__ import annotations

import argparse
import inspect
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from maas_dyn._shipped import shipped_releases
from maas_dyn.sim.maas.conditions import Conditions
from maas_dyn.sim.maas.faults import Faults
from maas_dyn.sim.maas.simulator import MAASSimulator
from maas_dyn.sim.maas.status import Status

DEFAULT_PORT = 5240
# Methods of Faults that are bookkeeping, not switches.
_NOT_SWITCHES = frozenset({"clear", "rules", "fire"})


def switches(cls: type) -> dict[str, inspect.Signature]:
    """List the switches of :class:`Faults` or :class:`Conditions` and their signatures.

    Args:
        cls: The class.

    Returns:
        Switch name -> signature without ``self``, sorted by name.
    """
    found: dict[str, inspect.Signature] = {}
    for name, func in sorted(vars(cls).items()):
        if name.startswith("_") or name in _NOT_SWITCHES or not callable(func):
            continue
        signature = inspect.signature(func)
        found[name] = signature.replace(parameters=list(signature.parameters.values())[1:])
    return found


def _describe(cls: type) -> str:
    lines = []
    for name, signature in switches(cls).items():
        params = ", ".join(
            p.name + ("" if p.default is inspect.Parameter.empty else f"={_shown(p.default)}")
            for p in signature.parameters.values()
        )
        lines.append(f"{name}:{params}" if params else name)
    return "; ".join(lines)


def _shown(default: Any) -> str:
    return default.name if isinstance(default, Status) else repr(default)


def _convert(text: str, annotation: Any) -> Any:
    # Annotations are strings (from __future__ import annotations): read the type names.
    kinds = str(annotation)
    if text.lower() == "none" and "None" in kinds:
        return None
    if "Status" in kinds:
        return Status(int(text)) if text.isdigit() else Status[text.upper()]
    if kinds.startswith("int"):
        return int(text)
    if kinds.startswith("float"):
        return float(text)
    return text


def parse_switch(spec: str, cls: type) -> tuple[str, dict[str, Any]]:
    """Parse ``NAME[:key=value,...]`` against a switch's signature.

    Args:
        spec: The command-line value.
        cls: :class:`Faults` or :class:`Conditions`.

    Returns:
        ``(switch name, keyword arguments)`` with values converted to the parameter types.

    Raises:
        ValueError: Unknown switch or parameter, a bad value, or a required parameter
            missing; the message names what is wrong.
    """
    name, _, rest = spec.partition(":")
    known = switches(cls)
    if name not in known:
        raise ValueError(f"unknown switch {name!r}; choose from {', '.join(known)}")
    parameters = known[name].parameters
    given: dict[str, Any] = {}
    for item in filter(None, rest.split(",")):
        key, equals, value = item.partition("=")
        if not equals or key not in parameters:
            raise ValueError(f"{name}: expected key=value with a key of {', '.join(parameters)}"
                             f", got {item!r}")
        given[key] = _convert(value, parameters[key].annotation)
    missing = [p for p, v in parameters.items()
               if v.default is inspect.Parameter.empty and p not in given]
    if missing:
        raise ValueError(f"{name}: missing {', '.join(missing)}")
    return name, given


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(
        prog="maas-dyn sim maas",
        description="Serve a simulated MAAS region on 127.0.0.1 until interrupted.",
    )
    parser.add_argument(
        "--version",
        default="3.7",
        choices=shipped_releases("maas"),
        help="MAAS release whose API description is served (default: %(default)s)",
    )
    parser.add_argument(
        "--machines", type=int, default=10, help="machines to seed (default: %(default)s)"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="TCP port on 127.0.0.1, 0 for any free one (default: %(default)s)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="simulated seconds per wall-clock second (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=0,
        help="seed of all generated data, system ids and the admin API key: the same seed "
             "gives the same credentials (default: %(default)s)",
    )
    parser.add_argument(
        "--description", metavar="FILE",
        help="serve this describe document (JSON, gzip allowed) instead of the shipped one "
             "of --version; any MAAS release, also ones this package has never seen",
    )
    parser.add_argument(
        "--fault", action="append", default=[], metavar="NAME[:key=value,...]",
        help="switch a fault on (repeatable): " + _describe(Faults),
    )
    parser.add_argument(
        "--condition", action="append", default=[], metavar="NAME[:key=value,...]",
        help="apply a health condition after seeding (repeatable): " + _describe(Conditions),
    )
    return parser


def _apply(simulator: MAASSimulator, faults: list[str], conditions: list[str]) -> None:
    targets: list[tuple[list[str], type, Any]] = [
        (faults, Faults, simulator.faults), (conditions, Conditions, simulator.conditions)]
    for specs, cls, target in targets:
        for spec in specs:
            name, kwargs = parse_switch(spec, cls)
            switch: Callable[..., Any] = getattr(target, name)
            switch(**kwargs)


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until SIGINT or SIGTERM.

    Prints the region URL and the admin API key, one per line, before serving.

    Args:
        argv: Command-line arguments without the program name (``sys.argv[1:]`` if None).

    Returns:
        The exit status: 0 after a clean stop.
    """
    args = build_parser().parse_args(argv)
    if args.machines < 0 or args.speed <= 0:
        sys.stderr.write("maas-dyn sim maas: --machines must be >= 0 and --speed > 0\n")
        return 2
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    try:
        simulator = MAASSimulator(
            version=args.version,
            machines=args.machines,
            speed=args.speed,
            seed=args.seed,
            port=args.port,
            description=args.description,
        )
        _apply(simulator, args.fault, args.condition)
    except (OSError, ValueError, KeyError) as error:
        sys.stderr.write(f"maas-dyn sim maas: {error}\n")
        return 2
    # Handlers go in before the server starts, so a signal can never find the default
    # handler (which would kill the process without stopping the server).
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            simulator.start()
        except OSError as error:
            sys.stderr.write(
                f"maas-dyn sim maas: cannot listen on 127.0.0.1:{args.port}: {error}\n"
            )
            return 1
        sys.stdout.write(f"MAAS URL: {simulator.url}\nAPI key:  {simulator.api_key}\n")
        sys.stdout.flush()
        # Wake up regularly so that signals are handled promptly on every platform.
        while not stop.wait(0.5):
            pass
    finally:
        simulator.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
