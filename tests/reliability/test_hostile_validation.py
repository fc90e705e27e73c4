"""Hostile schemas: validation stays bounded in time and depth (issue 17, part A).

A server publishes the schemas both validators walk: the client's lenient one
(maas_dyn/truenas/schema.py) and the simulator's strict one (maas_dyn/sim/truenas/schema.py).
A catastrophic-backtracking ``pattern`` must not hang either, and ``anyOf`` nested
deeper than the stack must not raise RecursionError.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from maas_dyn.sim.truenas import schema as sim_schema
from maas_dyn.truenas import schema as client_schema

# Seconds a bounded validation may take on any machine, interpreter start included (the
# unbounded one takes hours: 2**40 steps).
_GENEROUS = 15.0

_EXPONENTIAL = [r"^(a+)+$", r"^(a|aa)+$", r"^(\w+\s?)*$", r"^(a*)*b$", r"^(a?){30}a{30}$"]


def _within(seconds: float, module: str, function: str, *args: Any) -> Any:
    """Call ``module.function(*args)`` in a child process; fail when it is not done in time.

    A child, not a thread: a backtracking ``re`` search holds the GIL, so a thread could
    neither be waited for with a timeout nor stopped.
    """
    code = ("import json, sys, importlib\n"
            f"f = getattr(importlib.import_module({module!r}), {function!r})\n"
            "print(json.dumps(f(*json.load(sys.stdin))))\n")
    try:
        done = subprocess.run([sys.executable, "-c", code], input=json.dumps(args),
                              capture_output=True, text=True, timeout=seconds, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{module}.{function} still running after {seconds} s")
    return json.loads(done.stdout)


_CLIENT = "maas_dyn.truenas.schema"
_SIM = "maas_dyn.sim.truenas.schema"


def _nested_any_of(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"anyOf": [schema, {"type": "integer", "minimum": 5}]}
    return schema


@pytest.mark.parametrize("pattern", _EXPONENTIAL)
def test_client_validation_of_a_backtracking_pattern_returns_quickly(pattern: str) -> None:
    schema = {"type": "string", "pattern": pattern, "_name_": "name"}
    value = "a" * 40 + "!"
    problems = _within(_GENEROUS, _CLIENT, "validate_params", [schema], [value])
    assert problems == {}  # not run: left to the server, never reported as a problem


@pytest.mark.parametrize("pattern", _EXPONENTIAL)
def test_simulator_validation_of_a_backtracking_pattern_returns_quickly(pattern: str) -> None:
    schema = {"type": "string", "pattern": pattern, "_name_": "name"}
    _, problems = _within(_GENEROUS, _SIM, "validate_params", [schema], ["a" * 40 + "!"])
    assert problems == []


def test_a_huge_value_is_not_searched() -> None:
    schema = {"type": "string", "pattern": r"^.*.*.*=.*$"}
    value = "x" * 200_000
    assert _within(_GENEROUS, _CLIENT, "check_value", schema, value) == {}
    assert _within(_GENEROUS, _SIM, "validate", schema, value) == []


def test_safe_patterns_are_still_enforced() -> None:
    schema = {"type": "string", "pattern": r"^([0-9A-Fa-f]{2}[:-]?){5}([0-9A-Fa-f]{2})$"}
    assert client_schema.check_value(schema, "00:11:22:33:44:55") == {}
    assert client_schema.check_value(schema, "not a mac") != {}
    assert sim_schema.validate(schema, "not a mac") != []


def test_client_validation_of_any_of_nested_200_deep_does_not_recurse_forever() -> None:
    schema = _nested_any_of(200)
    assert client_schema.check_value(schema, "ok") == {}
    # Deeper than the cap is left to the server: no RecursionError, no false problem.
    assert client_schema.check_value(schema, 7) == {}
    assert client_schema.validate_params([schema], [[1, 2]]) is not None


def test_simulator_validation_of_any_of_nested_200_deep_reports_instead_of_crashing() -> None:
    schema = _nested_any_of(200)
    problems = sim_schema.validate(schema, "ok")
    assert problems and "nesting" in problems[0][1]
    _, listed = sim_schema.validate_params([schema], ["ok"])
    assert listed
    assert sim_schema.conform(schema, "ok") == "ok"
    assert sim_schema.apply_defaults(schema, "ok") == "ok"


def test_a_self_referencing_ref_in_the_simulator_is_bounded() -> None:
    schema = {"anyOf": [{"$ref": "#/properties/x"}], "properties": {"x": {"$ref": "#"}}}
    loop = {"anyOf": [{"$ref": "#/anyOf/0"}]}
    for candidate in (schema, loop):
        problems = _within(_GENEROUS, _SIM, "validate", candidate, 1)
        assert isinstance(problems, list)


def test_shallow_nesting_is_still_validated() -> None:
    schema = _nested_any_of(10)
    assert client_schema.check_value(schema, 3)  # neither string nor integer >= 5
    assert sim_schema.validate(schema, 3)
