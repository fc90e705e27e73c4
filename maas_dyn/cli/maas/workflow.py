"""``maas-dyn workflow PROFILE provision|release|tag|power ...``: the workflows from a shell.

Grammar (``maas-dyn workflow PROFILE WORKFLOW -h`` for each)::

    maas-dyn workflow PROFILE provision [SYSTEM_ID...] [--all-matching FILTERS]
             [--steps commission,test,deploy] [--distro SERIES] [--kernel KERNEL]
             [--user-data FILE] [--no-wait]
    maas-dyn workflow PROFILE release [SYSTEM_ID...] [--all-matching FILTERS]
             [--erase | --secure-erase | --quick-erase] [--comment TEXT] [--no-wait]
    maas-dyn workflow PROFILE tag [SYSTEM_ID...] [--all-matching FILTERS]
             [--rules RULES.json]                      (default: the New machines)
    maas-dyn workflow PROFILE power on|off|cycle|query [SYSTEM_ID...]
             [--all-matching FILTERS] [--wait]
    maas-dyn workflow PROFILE power set SYSTEM_ID... --type ipmi|redfish --address ADDR
             [--user USER] [--password-env VAR] [--param KEY=VALUE ...] [--skip-check]

Machines are the SYSTEM_IDs given plus those ``machines read FILTERS`` finds. Every
workflow accepts ``--concurrency N``, ``--retries N``, ``--timeout``/``--interval``
seconds for waits, ``-o json|yaml|table``, ``-k``, ``--yes`` and ``--dry-run``; it prints
one row per machine and a summary, with a progress bar on a terminal, and exits 1 if any
machine failed. Filters are checked as for ``--all-matching`` (see
:mod:`maas_dyn.cli.maas.bulk`): unknown keys are refused before anything is sent, the machines
they select are listed, and a workflow that changes machines asks before acting on more
than one of them (``--yes`` for scripts). ``--dry-run`` lists what would be done (for
``tag``, which tag each machine would get) and changes nothing. Ctrl-C stops at once and
says what was sent to each machine (exit 130). Power passwords are read from an
environment variable, never from the command line (where ``ps`` would show them).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maas_dyn.cli._common.confirm import confirm, describe_selection
from maas_dyn.cli._common.exits import ExitCode, UsageError
from maas_dyn.cli._common.options import new_parser
from maas_dyn.cli._common.output import FORMATTERS
from maas_dyn.cli._common.profiles import ENV_PROFILE
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.cli.maas.bulk import interrupted_exit, outcome_rows, write_outcomes
from maas_dyn.cli.maas.parser import (
    DEFAULT_INTERVAL,
    DEFAULT_TIMEOUT,
    FORMATS,
    parse_filters,
)
from maas_dyn.cli.maas.session import open_session
from maas_dyn.maas.client import Client
from maas_dyn.workflows import power, provisioning, tagging
from maas_dyn.workflows._common import select_machines
from maas_dyn.workflows.bulk import BulkInterrupted, run_bulk

__all__ = ["WORKFLOWS", "Workflow", "main"]

CREDENTIAL_ENV = "MAAS_DYN_POWER_PASS"


@dataclass(frozen=True)
class Workflow:
    """One ``workflow`` subcommand.

    Attributes:
        summary: One line for help.
        configure: Adds the subcommand's own arguments to its parser.
        run: Runs it: ``run(client, args, machines, runtime) -> exit code``, where
            machines maps each system_id to its hostname (``""`` when not looked up).
        default_filters: Machines selected when none are named (``None``: some needed).
        changes: Whether a run with these arguments changes machines (then it asks
            before acting on several, and ``--dry-run`` stops before it).
        plans: Whether the workflow carries out ``--dry-run`` itself (it shows more than
            the machine list, e.g. the tags each machine would get).
    """

    summary: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[Client, argparse.Namespace, dict[str, str], Runtime], int]
    default_filters: tuple[tuple[str, str], ...] | None = None
    changes: Callable[[argparse.Namespace], bool] = lambda args: True
    plans: bool = False


def _common(args: argparse.Namespace, runtime: Runtime) -> dict[str, Any]:
    # The options every machine workflow takes, as keyword arguments.
    return {"concurrency": args.concurrency, "retries": args.retries,
            "progress": runtime.stderr, "timeout": args.timeout, "interval": args.interval}


def _outcome_status(value: Any) -> str:
    return value.status if isinstance(value, provisioning.Outcome) else str(value or "")


# -- provision / release ------------------------------------------------------------------


def _configure_provision(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--steps", default=",".join(provisioning.DEFAULT_STEPS),
                        help=f"Comma-separated steps of {', '.join(provisioning.STEPS)} "
                        "(default: %(default)s).")
    parser.add_argument("--distro", help="Series to deploy, e.g. noble.")
    parser.add_argument("--kernel", help="Kernel to deploy, e.g. hwe-24.04.")
    parser.add_argument("--user-data", type=Path, metavar="FILE",
                        help="Cloud-init user data to deploy with.")
    parser.add_argument("--no-wait", action="store_true",
                        help="Do not wait for the last step to finish.")


def _run_provision(client: Client, args: argparse.Namespace, machines: dict[str, str],
                   runtime: Runtime) -> int:
    steps = tuple(step.strip() for step in args.steps.split(",") if step.strip())
    user_data = args.user_data.read_bytes() if args.user_data is not None else None
    result = provisioning.provision_many(
        client, list(machines), steps=steps, distro_series=args.distro, hwe_kernel=args.kernel,
        user_data=user_data, wait=not args.no_wait, **_common(args, runtime))
    return write_outcomes(result, outcome_rows(result, machines, _outcome_status), args.output,
                          runtime)


def _configure_release(parser: argparse.ArgumentParser) -> None:
    erase = parser.add_mutually_exclusive_group()
    erase.add_argument("--erase", action="store_true", help="Erase the disks.")
    erase.add_argument("--secure-erase", action="store_true", help="Secure-erase the disks.")
    erase.add_argument("--quick-erase", action="store_true",
                       help="Wipe only the start and end of each disk.")
    parser.add_argument("--comment", help="Why, for the machine's event log.")
    parser.add_argument("--no-wait", action="store_true",
                        help="Do not wait until the machines are Ready.")


def _run_release(client: Client, args: argparse.Namespace, machines: dict[str, str],
                 runtime: Runtime) -> int:
    result = provisioning.release_many(
        client, list(machines), erase=args.erase, secure_erase=args.secure_erase,
        quick_erase=args.quick_erase, comment=args.comment, wait=not args.no_wait,
        **_common(args, runtime))
    return write_outcomes(result, outcome_rows(result, machines, _outcome_status), args.output,
                          runtime)


# -- tag ----------------------------------------------------------------------------------


def _configure_tag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", type=Path, metavar="FILE",
                        help='JSON list of rules: [{"tag": "big", "fact": "memory", "op": ">=", '
                        '"value": 65536, "kernel_opts": "", "comment": ""}] (facts: '
                        f"{', '.join(tagging.FACTS)}; ops: {' '.join(tagging.OPERATORS)}); "
                        "default: the built-in rules.")


def _rules(path: Path | None) -> Sequence[tagging.TagRule]:
    if path is None:
        return tagging.DEFAULT_RULES
    try:
        return [tagging.TagRule(**row) for row in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError) as exc:
        raise UsageError(f"cannot use the rules in {str(path)!r}: {exc}") from exc


def _run_tag(client: Client, args: argparse.Namespace, machines: dict[str, str],
             runtime: Runtime) -> int:
    rules = _rules(args.rules)
    found = select_machines(client, [("id", sid) for sid in machines]) if machines else []
    by_tag = {rule.tag: rule for rule in reversed(rules)}  # the first rule of a tag wins
    if args.dry_run:
        applied = tagging.plan_tags(found, rules)
    else:
        applied = tagging.tag_machines(client, found, rules).applied
    rows = [{"name": tag, "machines": len(ids), "system_ids": ids,
             "kernel_opts": by_tag[tag].kernel_opts} for tag, ids in applied.items()]
    runtime.stdout.write(FORMATTERS[args.output or "table"](rows))
    verb = "would get" if args.dry_run else "got"
    runtime.note(f"{len(found)} machine(s) looked at; {sum(len(i) for i in applied.values())}"
                 f" tag(s) {verb} applied")
    return ExitCode.OK


# -- power --------------------------------------------------------------------------------


def _configure_power(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=(*power.POWER_ACTIONS, "query", "set"),
                        help="What to do.")
    parser.add_argument("--wait", action="store_true",
                        help="on/off/cycle: wait until the BMC confirms.")
    parser.add_argument("--type", choices=tuple(power.POWER_TYPES), dest="power_type",
                        help="set: the power driver.")
    parser.add_argument("--address", help="set: the BMC address.")
    parser.add_argument("--user", default="", help="set: the BMC user.")
    parser.add_argument("--password-env", default=CREDENTIAL_ENV, metavar="VAR",
                        help="set: environment variable holding the BMC password "
                        "(default: %(default)s).")
    parser.add_argument("--param", action="append", default=[], type=_param,
                        metavar="KEY=VALUE", help="set: another driver parameter (repeatable).")
    parser.add_argument("--skip-check", action="store_true",
                        help="set: store the parameters without the server checking them.")


def _param(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not key or not sep:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _settings(args: argparse.Namespace, runtime: Runtime) -> power.PowerSettings:
    if args.power_type is None or not args.address:
        raise UsageError("power set needs --type and --address")
    password = runtime.environ.get(args.password_env, "")
    if not password and "power_pass" in power.POWER_TYPES[args.power_type].required:
        raise UsageError(f"{args.power_type} needs a password: put it in the environment "
                         f"variable {args.password_env} (or name another with --password-env)")
    parameters = {"power_address": args.address, "power_user": args.user,
                  "power_pass": password, **dict(args.param)}
    return power.PowerSettings(args.power_type, parameters)


def _run_power(client: Client, args: argparse.Namespace, machines: dict[str, str],
               runtime: Runtime) -> int:
    if args.what == "query":
        result = power.query_power(client, list(machines), concurrency=args.concurrency,
                                   progress=runtime.stderr)
    elif args.what == "set":
        settings = _settings(args, runtime)
        result = run_bulk(
            lambda system_id: power.set_power(client, system_id, settings,
                                              skip_check=args.skip_check)["power_type"],
            list(machines), concurrency=args.concurrency, retries=args.retries,
            label="power set", progress=runtime.stderr)
    else:
        result = power.power_many(client, list(machines), args.what, wait=args.wait,
                                  **_common(args, runtime))
    return write_outcomes(result, outcome_rows(result, machines), args.output, runtime)


WORKFLOWS: Mapping[str, Workflow] = {
    "provision": Workflow("Commission, test and deploy machines (or the --steps given).",
                          _configure_provision, _run_provision),
    "release": Workflow("Release machines, optionally erasing their disks.",
                        _configure_release, _run_release),
    "tag": Workflow("Tag machines by hardware facts (CPU, memory, storage, architecture).",
                    _configure_tag, _run_tag, default_filters=(("status", "new"),),
                    plans=True),
    "power": Workflow("Power on/off/cycle, query power state, or set IPMI/Redfish parameters.",
                      _configure_power, _run_power,
                      changes=lambda args: args.what != "query"),
}


def _parser() -> argparse.ArgumentParser:
    parser = new_parser("maas-dyn workflow", "Run a workflow over machines of a profile "
                        "(see the module docs for the grammar).")
    parser.add_argument("profile", help="A stored profile, or 'env'.")
    commands = parser.add_subparsers(dest="workflow", required=True, metavar="WORKFLOW")
    for name, workflow in WORKFLOWS.items():
        sub = commands.add_parser(name, help=workflow.summary, description=workflow.summary)
        workflow.configure(sub)
        sub.add_argument("system_ids", nargs="*", metavar="SYSTEM_ID",
                         help="Machines to work on.")
        sub.add_argument("--all-matching", type=parse_filters, default=(), metavar="FILTERS",
                         help="Also every machine `machines read FILTERS` finds "
                         "(key=value[,key=value...], e.g. tags=k8s).")
        sub.add_argument("--concurrency", type=int, default=8, metavar="N",
                         help="Machines worked on at once (default %(default)s).")
        sub.add_argument("--retries", type=int, default=0, metavar="N",
                         help="Retries after errors the server did not act on (default 0).")
        sub.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                         help="Give up waiting after SECONDS (default %(default).0f).")
        sub.add_argument("--interval", type=float, default=DEFAULT_INTERVAL, metavar="SECONDS",
                         help="Poll every SECONDS while waiting (default %(default).0f).")
        sub.add_argument("-o", "--output", choices=FORMATS, help="Print the outcome as json, "
                         "yaml or table (default).")
        sub.add_argument("-k", "--insecure", action="store_true",
                         help="Do not verify the server's TLS certificate.")
        sub.add_argument("-y", "--yes", action="store_true",
                         help="Act on every selected machine without asking (needed when "
                         "there is no terminal to ask on).")
        sub.add_argument("--dry-run", action="store_true",
                         help="List the machines and what would be done; change nothing.")
    return parser


def _machines(client: Client, args: argparse.Namespace, workflow: Workflow,
              runtime: Runtime) -> dict[str, str]:
    filters = args.all_matching
    if not filters and not args.system_ids:
        if workflow.default_filters is None:
            raise UsageError(f"name the machines: SYSTEM_ID... or --all-matching FILTERS "
                             f"(see `maas-dyn workflow PROFILE {args.workflow} -h`)")
        filters = workflow.default_filters
    machines = dict.fromkeys(args.system_ids, "")
    if filters:
        found = select_machines(client, filters)
        runtime.stderr.write(describe_selection(found, filters))
        for machine in found:
            machines[str(machine["system_id"])] = str(machine.get("hostname", ""))
    return machines


def _dry_run(args: argparse.Namespace, machines: dict[str, str], runtime: Runtime) -> int:
    what = " ".join(["workflow", args.workflow, getattr(args, "what", "")]).strip()
    rows = [{"system_id": sid, "hostname": host, "would": what} for sid, host in
            machines.items()]
    runtime.stdout.write(FORMATTERS[args.output or "table"](rows))
    runtime.note(f"dry run: {what} would run on {len(rows)} machine(s); nothing was sent")
    return ExitCode.OK


def main(argv: list[str], runtime: Runtime) -> int:
    """Run ``maas-dyn workflow PROFILE WORKFLOW ...``.

    Args:
        argv: The arguments after ``workflow``.
        runtime: Streams, environment and profile store.

    Returns:
        The exit code: 0 if every machine succeeded (or ``--dry-run``), 1 if any failed
        or the user did not confirm, 130 if interrupted.
    """
    args = _parser().parse_args(argv)
    profile = runtime.store.resolve(args.profile, runtime.environ)
    session = open_session(profile, runtime, insecure=args.insecure)
    if profile.description is None and profile.name != ENV_PROFILE:
        session.fetch()  # a profile imported without one
    workflow = WORKFLOWS[args.workflow]
    machines = _machines(session.client, args, workflow, runtime)
    changes = workflow.changes(args) and not (args.dry_run and workflow.plans)
    if args.dry_run and not workflow.plans:
        return _dry_run(args, machines, runtime)
    if changes:
        selected = len(machines) - len(set(args.system_ids))
        confirm(runtime, len(machines) if selected > 0 else 1,
                f"workflow {args.workflow}", yes=args.yes)
    try:
        return workflow.run(session.client, args, machines, runtime)
    except BulkInterrupted as stopped:
        return interrupted_exit(stopped, outcome_rows(stopped.result, machines,
                                                      _outcome_status), args.output, runtime)
