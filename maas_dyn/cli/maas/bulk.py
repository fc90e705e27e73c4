"""``--all-matching``: one action over every matching machine, with bounded concurrency.

Grammar::

    maas-dyn PROFILE machines ACTION --all-matching KEY=VALUE[,KEY=VALUE...]
             [key=value ...] [--wait] [--concurrency N] [--retries N] [-o FORMAT]
             [--yes] [--dry-run]

``machines deploy --all-matching tags=k8s --wait`` reads the machines that
``machines read tags=k8s`` finds, then runs ``machine deploy SYSTEM_ID`` on each, at most
``--concurrency`` at once (``machine`` works as the handler word too; so do nodes,
devices and controllers). A progress bar runs on stderr when it is a terminal. The
result is one row per machine (``-o json|yaml|table``; a table by default) and a summary
on stderr; the exit code is 1 if any machine failed. ``--retries`` re-runs a machine only
after errors the server did not act on (see
:data:`maas_dyn.workflows.bulk.RETRYABLE`).

Safety, in order: filter keys the server's description does not know are refused before
anything is sent (MAAS ignores them, so they would match every machine); the machines
returned are checked against the filters; the matches are listed on stderr; an action that
changes anything asks before touching more than one machine (``--yes`` answers for a
script; with no terminal and no ``--yes`` it refuses); ``--dry-run`` stops after the list.
Ctrl-C starts nothing new, stops every wait within a poll, prints per machine whether its
request was sent and the state last seen, and exits 130.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from maas_dyn.cli._common.confirm import confirm, describe_selection, filters_text
from maas_dyn.cli._common.exits import ExitCode, UsageError
from maas_dyn.cli._common.output import FORMATTERS
from maas_dyn.cli._common.runtime import Runtime
from maas_dyn.cli.maas.parser import Options, find_action, find_handler, parse_fields
from maas_dyn.cli.maas.session import Session
from maas_dyn.errors import Cancelled, WaiterError
from maas_dyn.maas.describe import Description, HandlerSpec
from maas_dyn.workflows._common import select_machines
from maas_dyn.workflows.bulk import BulkInterrupted, BulkResult, run_bulk
from maas_dyn.workflows.waiters import Progress, get_waiter

__all__ = ["COLLECTIONS", "interrupted_exit", "outcome_rows", "run_all_matching", "write_outcomes"]

# Item handler -> the collection whose ``read`` selects its objects by filters.
COLLECTIONS: Mapping[str, str] = {
    "machine": "machines",
    "node": "nodes",
    "device": "devices",
    "rack-controller": "rack-controllers",
    "region-controller": "region-controllers",
}


def _status(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("status_name", ""))
    return "" if value is None else str(value)


def outcome_rows(result: BulkResult[str], hostnames: Mapping[str, str] | None = None,
                 status: Callable[[Any], str] = _status) -> list[dict[str, Any]]:
    """One row per target: identity, outcome, last status or error, attempts, seconds.

    Args:
        result: The bulk result.
        hostnames: system_id -> hostname, for the table.
        status: Reads the status shown from a successful item's value.

    Returns:
        The rows, in the order the targets were given.
    """
    rows = []
    for item in result.items:
        error = item.error
        if error is None:
            shown = status(item.value)
        else:
            shown = error.last_state if isinstance(error, (WaiterError, Cancelled)) else ""
        rows.append({
            "system_id": item.target,
            "hostname": (hostnames or {}).get(item.target, ""),
            "outcome": _outcome(error),
            "status_name": shown,
            "error": "" if error is None else f"{type(error).__name__}: {error}",
            "attempts": item.attempts,
            "seconds": round(item.seconds, 2),
        })
    return rows


def _outcome(error: BaseException | None) -> str:
    if error is None:
        return "ok"
    if isinstance(error, Cancelled):
        return "interrupted (sent)" if error.sent else "not started"
    return "failed"


def interrupted_exit(stopped: BulkInterrupted, rows: list[dict[str, Any]], output: str | None,
                     runtime: Runtime) -> int:
    """Print what an interrupted run did to each machine; return exit code 130.

    Args:
        stopped: The interrupt, with the partial result.
        rows: Its rows (see :func:`outcome_rows`).
        output: The output format.
        runtime: Where to print.

    Returns:
        :attr:`ExitCode.INTERRUPTED`.
    """
    items = stopped.result.items
    sent = sum(1 for i in items if isinstance(i.error, Cancelled) and i.error.sent)
    unsent = sum(1 for i in items if isinstance(i.error, Cancelled) and not i.error.sent)
    finished = len(items) - sent - unsent
    runtime.stdout.write(FORMATTERS[output or "table"](rows))
    runtime.note(f"interrupted: {finished} finished, {sent} sent and no longer waited on "
                 f"(the server goes on with them; see status_name), {unsent} not started "
                 f"(nothing sent)")
    return ExitCode.INTERRUPTED


def write_outcomes(result: BulkResult[str], rows: list[dict[str, Any]], output: str | None,
                   runtime: Runtime) -> int:
    """Print the rows (stdout) and the summary (stderr); return the exit code.

    Args:
        result: The bulk result.
        rows: Its rows (see :func:`outcome_rows`).
        output: ``json``, ``yaml``, ``table`` or ``None`` (a table).
        runtime: Where to print.

    Returns:
        0 when every item succeeded, 1 otherwise.
    """
    runtime.stdout.write(FORMATTERS[output or "table"](rows))
    runtime.stderr.write(result.summary() + "\n")
    return ExitCode.OK if not result.failed else ExitCode.FAILURE


def _item_handlers(description: Description, word: str) -> tuple[HandlerSpec, HandlerSpec]:
    handler = find_handler(description, word)
    items = {collection: item for item, collection in COLLECTIONS.items()}
    name = handler.cli_name if handler.cli_name in COLLECTIONS else items.get(handler.cli_name)
    if name is None:
        raise UsageError(f"--all-matching selects {', '.join(COLLECTIONS.values())}; "
                         f"not {handler.cli_name!r}")
    return find_handler(description, name), find_handler(description, COLLECTIONS[name])


def run_all_matching(name: str, session: Session, options: Options, runtime: Runtime) -> int:
    """Run ``HANDLER ACTION`` on every object the ``--all-matching`` filters select.

    Args:
        name: The profile word.
        session: The profile's session.
        options: The parsed command line (``options.all_matching`` is set).
        runtime: Streams and store.

    Returns:
        The exit code: 0 if every object succeeded (or ``--dry-run``), 1 if any failed or
        the user did not confirm, 130 if interrupted.

    Raises:
        UsageError: Not a node handler, unknown action, path parameters given, or more
            than one machine with neither a terminal nor ``--yes``.
        InvalidParametersError: A filter key the server would ignore (nothing sent).
        UnsafeSelectionError: The server returned machines the filters do not match.
    """
    client = session.client
    item, collection = _item_handlers(client.description, options.words[0])
    target = find_action(item, options.words[1:])
    if target.path_args:
        raise UsageError(f"with --all-matching the {item.params[0]}s come from the filters; "
                         f"remove {' '.join(target.path_args)!r}")
    fields = parse_fields(target)
    if options.debug:
        from maas_dyn.cli.maas.debug import DebugPrinter

        key = session.profile.api_key or ""
        DebugPrinter(runtime.stderr, signed=bool(key),
                     secrets=(key, *key.split(":"))).attach(client)
    found = select_machines(client, options.all_matching, collection=collection.name)
    hostnames = {str(node["system_id"]): str(node.get("hostname", "")) for node in found
                 if "system_id" in node}
    label = f"{item.cli_name} {target.action.cli_name}"
    if not hostnames:
        runtime.note(f"no {collection.cli_name} match {filters_text(options.all_matching)}; "
                     "nothing to do")
        return ExitCode.OK
    runtime.stderr.write(describe_selection(found, options.all_matching, collection.cli_name))
    if options.dry_run:
        rows = [{"system_id": sid, "hostname": host, "would": label} for sid, host in
                hostnames.items()]
        runtime.stdout.write(FORMATTERS[options.output or "table"](rows))
        runtime.note(f"dry run: {label} would be sent to {len(rows)} {collection.cli_name}; "
                     "nothing was sent")
        return ExitCode.OK
    if target.action.method != "GET":
        confirm(runtime, len(hostnames), label, yes=options.yes)
    action = target.action
    seen: dict[str, str] = {}  # system_id -> status last seen, for an interrupted run

    def watch(progress: Progress) -> None:
        seen[progress.target] = progress.state

    def one(system_id: str) -> Any:
        data = client.request(item.name, action.name, system_id, fields=fields).data
        seen[system_id] = _status(data)
        if not options.wait:
            return data
        try:
            return get_waiter(client, "machine_settled", handler=item.name, action="read",
                              timeout=options.timeout, interval=options.interval
                              ).wait(system_id, on_progress=watch)
        except Cancelled as exc:
            raise Cancelled(str(exc), sent=True,
                            last_state=exc.last_state or seen.get(system_id, "")) from exc

    try:
        result = run_bulk(one, list(hostnames), concurrency=options.concurrency,
                          retries=options.retries, label=label, progress=runtime.stderr,
                          stop=threading.Event())
    except BulkInterrupted as stopped:
        return interrupted_exit(stopped, outcome_rows(stopped.result, hostnames), options.output,
                                runtime)
    if session.save_new_description(runtime.store):
        runtime.note(f"profile {name!r} now holds the server's new API description")
    return write_outcomes(result, outcome_rows(result, hostnames), options.output, runtime)
