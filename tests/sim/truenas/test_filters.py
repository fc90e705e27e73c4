"""Query filters and options: a table of cases with the middleware's results."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

import pytest

from maas_dyn.sim.truenas.exceptions import MatchNotFound
from maas_dyn.sim.truenas.filters import filter_list, validate_filters, validate_options

ROWS: list[dict[str, Any]] = [
    {"id": 1, "name": "tank", "size": 10, "owner": None, "tags": ["a", "b"],
     "state": {"name": "ONLINE"}, "disks": [{"name": "sda"}, {"name": "sdb"}], "dot.key": 1,
     "when": datetime(2025, 1, 1, tzinfo=timezone.utc)},
    {"id": 2, "name": "Backup", "size": 30, "owner": "bob", "tags": ["b"],
     "state": {"name": "DEGRADED"}, "disks": [{"name": "sdc"}], "dot.key": 2,
     "when": datetime(2025, 6, 1, tzinfo=timezone.utc)},
    {"id": 3, "name": "scratch", "size": 20, "owner": "Alice", "tags": [],
     "state": {"name": "ONLINE"}, "disks": [], "dot.key": 3,
     "when": datetime(2025, 3, 1, tzinfo=timezone.utc)},
]


def ids(result: Any) -> list[int]:
    return [row["id"] for row in result]


@pytest.mark.parametrize(("filters", "expected"), [
    ([], [1, 2, 3]),
    ([["name", "=", "tank"]], [1]),
    ([["name", "!=", "tank"]], [2, 3]),
    ([["size", ">", 10]], [2, 3]),
    ([["size", ">=", 20]], [2, 3]),
    ([["size", "<", 20]], [1]),
    ([["size", "<=", 20]], [1, 3]),
    ([["name", "~", "^s.*h$"]], [3]),
    ([["owner", "~", "^$"]], [1]),
    ([["id", "in", [1, 3]]], [1, 3]),
    ([["id", "nin", [1, 3]]], [2]),
    ([["owner", "nin", ["bob"]]], [3]),
    ([["tags", "rin", "b"]], [1, 2]),
    ([["tags", "rnin", "b"]], [3]),
    ([["owner", "rin", "o"]], [2]),
    ([["name", "^", "ta"]], [1]),
    ([["name", "!^", "ta"]], [2, 3]),
    ([["name", "$", "ch"]], [3]),
    ([["name", "!$", "ch"]], [1, 2]),
    ([["owner", "^", "b"]], [2]),
    ([["owner", "!^", "b"]], [3]),
    ([["name", "C=", "BACKUP"]], [2]),
    ([["name", "C!=", "backup"]], [1, 3]),
    ([["owner", "C^", "AL"]], [3]),
    ([["owner", "C$", "CE"]], [3]),
    ([["name", "Cin", ["TANK", "SCRATCH"]]], [1, 3]),
    ([["name", "Cnin", ["TANK"]]], [2, 3]),
    ([["tags", "Crin", "B"]], [1, 2]),
    ([["tags", "Crnin", "B"]], [3]),
    ([["state.name", "=", "ONLINE"]], [1, 3]),
    ([["disks.0.name", "=", "sdc"]], [2]),
    ([["disks.5.name", "=", None]], [1, 2, 3]),
    ([["disks.*.name", "=", "sdb"]], [1]),
    ([["dot\\.key", "=", 2]], [2]),
    ([["missing", "=", None]], []),
    ([["name.deeper", "=", 1]], []),
    ([["size", ">", 5], ["owner", "!=", None]], [2, 3]),
    ([["OR", [["name", "=", "tank"], ["size", "=", 30]]]], [1, 2]),
    ([["OR", [[["size", ">", 5], ["owner", "=", "bob"]], ["name", "=", "scratch"]]]], [2, 3]),
    ([["when.$date", ">", "2025-02-01T00:00:00"]], [2, 3]),
])
def test_filters(filters: list[Any], expected: list[int]) -> None:
    assert ids(filter_list(ROWS, filters, {})) == expected


@pytest.mark.parametrize(("options", "expected"), [
    ({"order_by": ["size"]}, [1, 3, 2]),
    ({"order_by": ["-size"]}, [2, 3, 1]),
    # Keys are applied one after the other with a stable sort: the last key wins.
    ({"order_by": ["-id", "state.name"]}, [2, 3, 1]),
    ({"order_by": ["nulls_first:owner"]}, [1, 3, 2]),
    ({"order_by": ["nulls_last:-owner"]}, [2, 3, 1]),
    ({"offset": 1}, [2, 3]),
    ({"limit": 2}, [1, 2]),
    ({"offset": 1, "limit": 1}, [2]),
])
def test_options(options: dict[str, Any], expected: list[int]) -> None:
    assert ids(filter_list(ROWS, [], options)) == expected


def test_select_count_get() -> None:
    assert filter_list(ROWS, [["id", "=", 1]], {"select": ["name", "state.name", ["size", "s"],
                                                           "nope"]}) == [
        {"name": "tank", "state": {"name": "ONLINE"}, "s": 10}]
    assert filter_list(ROWS, [["size", ">", 10]], {"count": True}) == 2
    assert filter_list(ROWS, [["size", ">", 10]], {"get": True})["id"] == 2
    assert filter_list(ROWS, [], {"get": True, "order_by": ["-size"]})["id"] == 2
    with pytest.raises(MatchNotFound):
        filter_list(ROWS, [["id", "=", 9]], {"get": True})
    with pytest.raises(ValueError, match="Selecting by list index"):
        filter_list(ROWS, [], {"select": ["disks.name"]})


@pytest.mark.parametrize(("filters", "message"), [
    ([["name", "??", 1]], "Invalid operation: ??"),
    ([["name", "C~", "x"]], "Invalid case-insensitive operation: C~"),
    ([["name", "="]], "Invalid operation: name"),
    ([["name", "=", 1, 2]], "Invalid filter ['name', '=', 1, 2]"),
    (["abc"], "Invalid filter abc"),
    ([["AND", [["id", "=", 1]]]], "Invalid operation: AND"),
    ([["OR", []]], "OR filter requires at least one branch."),
    ([["OR", [["OR", [["OR", [["OR", [["OR", [["id", "=", 1]]]]]]]]]]]],
     "query-filters max recursion depth exceeded"),
    ([["when.$date", "^", "2025"]], "^: invalid timestamp operation."),
    ([["when.$date", ">", "yesterday"]], "yesterday: must be an ISO-8601 formatted timestamp"),
    ([["name", 5, 1]], "Invalid operation: 5"),
])
def test_invalid_filters(filters: list[Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        validate_filters(filters)


@pytest.mark.parametrize(("options", "message"), [
    ({"get": True, "limit": 2}, "`get` implies a single result"),
    ({"get": True, "offset": 1}, "`get` implies a single result"),
    ({"limit": 10001}, "Options limit must be between 1 and 10000"),
    ({"select": [["a"]]}, "A select as list may only contain two parameters"),
])
def test_invalid_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_options(options)


def test_case_folding_of_unsupported_types_fails() -> None:
    with pytest.raises(ValueError, match="support for casefolding"):
        filter_list(ROWS, [["size", "C=", 10]], {})
    with pytest.raises(ValueError, match="must be array index or wildcard"):
        filter_list(ROWS, [["disks.x", "=", 1]], {})
