"""``--all-matching``: one action over every matching machine, with bounded concurrency.

Grammar::

    maas-dyn PROFILE machines ACTION --all-matching KEY=VALUE[,KEY=VALUE...]
             [key=value ...] [--wait] [--concurrency N] [--retries N] [-o FORMAT]

``machines deploy --all-matching tags=k8s --wait`` reads the machines that
``machines read tags=k8s`` finds, then runs ``machine deploy SYSTEM_ID`` on each, at most
``--concurrency`` at once (``machine`` works as the handler word too; so do nodes,
devices and controllers). A progress bar runs on stderr when it is a terminal. The
result is one row per machine (``-o json|yaml|table``; a table by default) and a summary
on stderr; the exit code is 1 if any machine failed. ``--retries`` re-runs a machine only
after errors the server did not act on (see
:data:`maas_dyn.workflows.bulk.RETRYABLE`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from maas_dyn.cli.exits import ExitCode, UsageError
from maas_dyn.cli.output import FORMATTERS
from maas_dyn.cli.parser import Options, find_action, find_handler, parse_fields
from maas_dyn.cli.runtime import Runtime
from maas_dyn.cli.session import Session
from maas_dyn.errors import WaiterError
from maas_dyn.maas.describe import Description, HandlerSpec
from maas_dyn.workflows.bulk import BulkResult, run_bulk
from maas_dyn.workflows.waiters import get_waiter

__all__ = ["COLLECTIONS", "outcome_rows", "run_all_matching", "write_outcomes"]

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
            shown = error.last_state if isinstance(error, WaiterError) else ""
        rows.append({
            "system_id": item.target,
            "hostname": (hostnames or {}).get(item.target, ""),
            "outcome": "ok" if error is None else "failed",
            "status_name": shown,
            "error": "" if error is None else f"{type(error).__name__}: {error}",
            "attempts": item.attempts,
            "seconds": round(item.seconds, 2),
        })
    return rows


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
        The exit code: 0 if every object succeeded, 1 if any failed.

    Raises:
        UsageError: Not a node handler, unknown action, or path parameters given.
    """
    client = session.client
    item, collection = _item_handlers(client.description, options.words[0])
    target = find_action(item, options.words[1:])
    if target.path_args:
        raise UsageError(f"with --all-matching the {item.params[0]}s come from the filters; "
                         f"remove {' '.join(target.path_args)!r}")
    fields = parse_fields(target)
    if options.debug:
        from maas_dyn.cli.debug import DebugPrinter

        key = session.profile.api_key or ""
        DebugPrinter(runtime.stderr, signed=bool(key),
                     secrets=(key, *key.split(":"))).attach(client)
    found = client.request(collection.name, "read", fields=options.all_matching).data
    hostnames = {str(node["system_id"]): str(node.get("hostname", "")) for node in found}
    if not hostnames:
        runtime.note(f"no {collection.cli_name} match {options.all_matching}; nothing to do")
    action = target.action

    def one(system_id: str) -> Any:
        data = client.request(item.name, action.name, system_id, fields=fields).data
        if options.wait:
            data = get_waiter(client, "machine_settled", handler=item.name, action="read",
                              timeout=options.timeout, interval=options.interval
                              ).wait(system_id)
        return data

    result = run_bulk(one, list(hostnames), concurrency=options.concurrency,
                      retries=options.retries, label=f"{item.cli_name} {action.cli_name}",
                      progress=runtime.stderr)
    if session.save_new_description(runtime.store):
        runtime.note(f"profile {name!r} now holds the server's new API description")
    return write_outcomes(result, outcome_rows(result, hostnames), options.output, runtime)
