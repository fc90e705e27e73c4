"""Region-wide calls: the version, configuration settings and the event log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from maas_dyn.sim.maas import filters, render
from maas_dyn.sim.maas.models import Event
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.releases import CAPABILITIES, version_of
from maas_dyn.sim.maas.request import Params
from maas_dyn.sim.maas.responses import BadRequest, Response, ValidationFailed
from maas_dyn.sim.maas.validation import mandatory

# Event levels in increasing severity; ``level=X`` shows X and above.
LEVELS = {"AUDIT": 0, "DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
DEFAULT_EVENT_LIMIT = 100
MAX_EVENT_LIMIT = 1000
# Query parameters that select nodes rather than events.
_NODE_PARAMS = ("hostname", "mac_address", "id", "zone", "agent_name", "domain")
_EVENT_PARAMS = frozenset({"op", "level", "limit", "before", "after", "owner", *_NODE_PARAMS})


@action("VersionHandler", "read")
def version(context: Context) -> dict[str, Any]:
    """Report the MAAS version of the served release and the API capabilities."""
    return {
        "capabilities": list(CAPABILITIES),
        "version": version_of(context.state.release),
        "subversion": "",
    }


@action("MaasHandler", "get_config")
def get_config(context: Context) -> Any:
    """Return one configuration setting."""
    name = mandatory(context.params, "name")
    _check_name(context, name)
    return context.state.config[name]


@action("MaasHandler", "set_config", admin=True)
def set_config(context: Context) -> Response:
    """Change one configuration setting (booleans and numbers keep their type)."""
    name = mandatory(context.params, "name")
    raw = mandatory(context.params, "value")
    _check_name(context, name)
    current = context.state.config[name]
    context.state.config[name] = _coerce(name, raw, current)
    return Response.text("OK")


@action("EventsHandler", "query")
def query(context: Context) -> dict[str, Any]:
    """Page through the event log, newest first, like ``events query``."""
    state = context.state
    params = context.params
    level_name = (params.get("level") or "INFO").upper()
    if level_name not in LEVELS:
        raise BadRequest(f"Unrecognised log level: {level_name}")
    limit = _int(params, "limit", DEFAULT_EVENT_LIMIT)
    if limit > MAX_EVENT_LIMIT:
        raise BadRequest(
            f"Requested number of events {limit} is greater than limit: {MAX_EVENT_LIMIT}"
        )
    before, after = _optional_int(params, "before"), _optional_int(params, "after")
    if before is not None and after is not None:
        raise BadRequest(
            "There is undetermined behaviour when both `after` and `before` are specified."
        )
    nodes = _selected_nodes(context)
    owner = params.get("owner")

    def wanted(event: Event) -> bool:
        return (
            LEVELS.get(event.level, 20) >= LEVELS[level_name]
            and (nodes is None or event.node in nodes)
            and (owner is None or event.username == owner)
        )

    events = _page(state.events, wanted, limit, before, after)
    base = f"{state.api_prefix}events/"
    if events:
        newer = _uri(base, params, "before", ("after", events[0].id))
        older: str | None = _uri(base, params, "after", ("before", events[-1].id))
    else:
        # Nothing now; a later call may find newer events, or older ones past `after`.
        newer = _uri(base, params, "before", None if before is None else ("after", before - 1))
        older = None if after is None else _uri(base, params, "after", ("before", after + 1))
    return {
        "count": len(events),
        "events": [render.event(state, e) for e in events],
        "next_uri": newer,
        "prev_uri": older,
    }


def _check_name(context: Context, name: str) -> None:
    if name not in context.state.config:
        valid = ", ".join(sorted(context.state.config))
        raise ValidationFailed(
            {"name": [f"{name} is not a valid config setting (valid settings are: {valid})."]}
        )


def _coerce(name: str, raw: str, current: Any) -> Any:
    if isinstance(current, bool):
        lowered = raw.strip().lower()
        if lowered not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
            raise ValidationFailed({"value": [f"'{raw}' value must be either True or False."]})
        return lowered in ("true", "1", "yes", "on")
    if isinstance(current, int):
        try:
            return int(raw)
        except ValueError:
            raise ValidationFailed({"value": ["Enter a whole number."]}) from None
    return raw


def _int(params: Params, name: str, default: int) -> int:
    value = _optional_int(params, name)
    return default if value is None else value


def _optional_int(params: Params, name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"Invalid {name}: Please enter an integer value") from None
    if value < 0:
        raise BadRequest(f"Invalid {name}: Value must be 0 or greater")
    return value


def _selected_nodes(context: Context) -> set[str] | None:
    params = context.params
    if not any(params.has(name) for name in _NODE_PARAMS):
        return None
    values = {name: params.get_list(name) for name in _NODE_PARAMS if params.has(name)}
    criteria = filters.parse(context.state, Params(values), "read", context.not_modelled)
    return {
        node.system_id
        for node in context.state.nodes()
        if filters.matches(context.state, node, criteria)
    }


def _page(
    events: Any, wanted: Any, limit: int, before: int | None, after: int | None
) -> list[Event]:
    if after is not None:
        # Oldest first after ``after``, then reversed so the page reads newest first.
        older_first = _take((e for e in events if e.id > after and wanted(e)), limit)
        return older_first[::-1]
    newest_first = (e for e in reversed(events) if (before is None or e.id < before) and wanted(e))
    return _take(newest_first, limit)


def _take(items: Iterator[Event], limit: int) -> list[Event]:
    taken: list[Event] = []
    for item in items:
        if len(taken) >= limit:
            break
        taken.append(item)
    return taken


def _uri(base: str, params: Params, without: str, extra: tuple[str, int] | None) -> str:
    replaced = extra[0] if extra else None
    pairs = [
        (name, value)
        for name in params.names()
        if name in _EVENT_PARAMS and name not in (without, replaced)
        for value in params.get_list(name)
    ]
    if extra is not None:
        pairs.append((extra[0], str(extra[1])))
    return f"{base}?{urlencode(pairs)}"
