"""``maas-dyn sim maas``: run the simulator in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from maas_dyn._shipped import shipped_releases
from maas_dyn.sim.maas.simulator import MAASSimulator

DEFAULT_PORT = 5240


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
        "--seed", type=int, default=0, help="seed of all generated data (default: %(default)s)"
    )
    return parser


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

    simulator = MAASSimulator(
        version=args.version,
        machines=args.machines,
        speed=args.speed,
        seed=args.seed,
        port=args.port,
    )
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
