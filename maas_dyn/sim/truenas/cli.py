"""``truenas-dyn sim``: run the simulator until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from types import FrameType

from maas_dyn.sim.truenas.catalog import Catalog
from maas_dyn.sim.truenas.simulator import TrueNASSimulator
from maas_dyn.sim.truenas.switches import CONDITIONS, FAULTS, Switch, apply, describe, parse_switch

__all__ = ["build_parser", "main"]

# How often the serving loop looks for a stop request.
_POLL = 0.2


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``truenas-dyn sim``.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(
        prog="truenas-dyn sim",
        description="Serve a simulated TrueNAS middleware on 127.0.0.1.",
        epilog="Credentials depend on --seed only: the same seed prints the same API key "
               "and OTP secret on every start.")
    parser.add_argument("--version", default=None, metavar="RELEASE",
                        help="release whose shipped API description is served: "
                             f"{', '.join(Catalog.releases())} (default: 25.10); with "
                             "--description, the name it is served under (default: the "
                             "file's name)")
    parser.add_argument("--description", metavar="FILE",
                        help="serve this core.get_methods document (.json or .json.gz) "
                             "instead of a shipped one; any release, also one this package "
                             "has never seen (CRUD and config services get generic stores)")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME[:K=V,...]",
                        type=_switch(FAULTS),
                        help="turn on a fault switch of sim.faults (repeatable): "
                             + describe(FAULTS).replace("%", "%%"))
    parser.add_argument("--condition", action="append", default=[],
                        metavar="NAME[:K=V,...]", type=_switch(CONDITIONS),
                        help="set a health condition of sim.conditions, or raise an alert "
                             "(repeatable; applied in order after the start): "
                             + describe(CONDITIONS).replace("%", "%%"))
    parser.add_argument("--port", type=int, default=0,
                        help="TCP port; 0 picks a free one (default: %(default)s)")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="simulated seconds per real second (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of everything random (default: %(default)s)")
    parser.add_argument("--auth-mechanisms", metavar="MECH,...",
                        type=lambda text: [m.strip() for m in text.split(",") if m.strip()],
                        help="accept only these auth.login_ex mechanisms, as a hardened box "
                             "does (e.g. SCRAM or SCRAM,PASSWORD_PLAIN); default: all the "
                             "release offers")
    parser.add_argument("--tls-cert", metavar="PEM",
                        help="serve wss:// and https:// with this certificate (chain; may "
                             "include the key); SCRAM logins then bind to it")
    parser.add_argument("--tls-key", metavar="PEM",
                        help="the private key, when not in --tls-cert")
    parser.add_argument("--scram-iterations", type=int, default=500_000, metavar="N",
                        help="PBKDF2 iterations of API keys' SCRAM keys (default: "
                             "%(default)s, as the middleware)")
    return parser


def _switch(table: dict[str, tuple[type, str]]) -> Callable[[str], Switch]:
    def parse(text: str) -> Switch:
        try:
            return parse_switch(table, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    return parse


def _apply_switches(sim: TrueNASSimulator, faults: list[Switch], conditions: list[Switch]
                    ) -> None:
    for switch in faults:
        apply(lambda name: getattr(sim.faults, name), switch)
    for switch in conditions:
        apply(lambda name: getattr(sim if name == "raise_alert" else sim.conditions, name),
              switch)


def _banner(sim: TrueNASSimulator) -> str:
    return "\n".join((
        f"TrueNAS {sim.version} simulator ({sim.api_version})",
        f"  url:          {sim.url}",
        f"  legacy url:   {sim.legacy_url}",
        f"  http:         {sim.base_url}",
        f"  password:     {sim.username} / {sim.password}",
        f"  api key:      {sim.username} / {sim.api_key}",
        f"  otp user:     {sim.otp_username} / {sim.otp_password}",
        f"  otp secret:   {sim.otp_secret}",
        f"  mechanisms:   {', '.join(sim.auth_mechanisms)}",
        "Press Ctrl-C to stop.",
    ))


def main(argv: list[str] | None = None) -> int:
    """Run ``truenas-dyn sim`` until Ctrl-C or SIGTERM.

    Args:
        argv: Arguments after ``sim``; ``sys.argv[1:]`` when omitted.

    Returns:
        0 on a clean stop.
    """
    args = build_parser().parse_args(argv)
    # A signal handler must not take locks (an Event would), so it only records the signal.
    requested: list[int] = []

    def _stop(signum: int, frame: FrameType | None) -> None:
        requested.append(signum)

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if args.description is None and args.version not in (None, *Catalog.releases()):
            sys.stderr.write(f"truenas-dyn sim: no description ships for {args.version}; "
                             f"shipped: {', '.join(Catalog.releases())} (or give "
                             "--description FILE)\n")
            return 2
        # Left at the default, the simulator names a --description after its file.
        with TrueNASSimulator(version=args.version or "25.10", speed=args.speed,
                              seed=args.seed,
                              port=args.port, auth_mechanisms=args.auth_mechanisms,
                              tls_cert=args.tls_cert, tls_key=args.tls_key,
                              scram_iterations=args.scram_iterations,
                              description=args.description) as sim:
            try:
                _apply_switches(sim, args.fault, args.condition)
            except (KeyError, ValueError, TypeError) as exc:
                sys.stderr.write(f"truenas-dyn sim: {exc}\n")
                return 2
            sys.stdout.write(_banner(sim) + "\n")
            sys.stdout.flush()
            while not requested:
                time.sleep(_POLL)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
