"""Read-once sources, the server's clock, and event batching (maas_source.py, sources.py)."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace
from typing import Any

import pytest

from maas_dyn.errors import ForbiddenError
from maas_dyn.health import maas_source
from maas_dyn.health.maas_source import MAASSource, event_time
from maas_dyn.health.sources import age_text, http_date, once


class FakeEvents:
    """``events.query`` answering from a table of events per system id."""

    def __init__(self, events: dict[str, list[dict[str, Any]]]) -> None:
        self.events = events
        self.calls: list[tuple[Any, int]] = []

    def query(self, *, id: Any, level: str, limit: int) -> dict[str, Any]:
        self.calls.append((id, limit))
        ids = id if isinstance(id, list) else [id]
        found = [e for sid in ids for e in self.events.get(sid, [])]
        return {"count": min(len(found), limit), "events": found[:limit]}


def _client(machines: list[dict[str, Any]], events: FakeEvents) -> Any:
    response = SimpleNamespace(headers={"Date": "Mon, 02 Jan 2023 10:00:00 GMT"})
    return SimpleNamespace(machines=SimpleNamespace(read=lambda: machines), events=events,
                           last_response=response)


def _event(node: str, kind: str = "Node changed status") -> dict[str, Any]:
    return {"node": node, "type": kind, "level": "INFO", "created": "Mon, 02 Jan. 2023 09:00:00"}


def test_events_are_read_in_batches_and_full_pages_per_machine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(maas_source, "EVENT_BATCH", 2)
    monkeypatch.setattr(maas_source, "EVENT_PAGE", 3)
    machines = [{"system_id": f"m{n}", "status": 9} for n in range(5)]
    machines.append({"system_id": "ready", "status": 4})
    events = FakeEvents({"m0": [_event("m0", "PXE") for _ in range(3)] + [_event("m0")],
                         "m1": [_event("m1")], "m2": [_event("m2")], "m4": []})
    source = MAASSource(_client(machines, events), [9])
    found = source.node_events()
    # The first page filled up with m0's PXE events: m0 and m1 are asked about alone.
    assert [call[0] for call in events.calls] == [["m0", "m1"], ["m2", "m3"], ["m4"], "m0",
                                                  "m1"]
    assert [e["type"] for e in found["m0"]][-1] == "Node changed status"
    assert found["m1"] == [_event("m1")]
    assert source.now == datetime(2023, 1, 2, 10, tzinfo=timezone.utc)
    assert source.node_events() is found  # read once


def test_a_failed_read_is_remembered() -> None:
    calls = []

    class Source:
        def __init__(self) -> None:
            self._cache: dict[str, Any] = {}

        @once
        def thing(self) -> int:
            calls.append(1)
            raise ForbiddenError("no", status=403)

    source = Source()
    for _ in range(2):
        with pytest.raises(ForbiddenError):
            source.thing()
    assert calls == [1]


def test_http_date_falls_back_to_our_clock() -> None:
    assert http_date({"Date": "Tue, 15 Nov 1994 08:12:31 GMT"}) == datetime(
        1994, 11, 15, 8, 12, 31, tzinfo=timezone.utc)
    before = datetime.now(timezone.utc)
    assert http_date({"Date": "yesterday-ish"}) >= before
    assert http_date(None) >= before
    assert http_date({}) >= before


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "unknown"), (0, "0s"), (59.9, "59s"), (60, "1m"), (3725, "1h 2m"),
    (90061, "1d 1h"), (-5, "0s"),
])
def test_age_text(seconds: float | None, text: str) -> None:
    assert age_text(seconds) == text


def test_event_time() -> None:
    assert event_time("Fri, 07 Dec. 2018 20:11:08") == datetime(
        2018, 12, 7, 20, 11, 8, tzinfo=timezone.utc)
    assert event_time("2018-12-07") is None
