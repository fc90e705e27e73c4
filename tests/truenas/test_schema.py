"""Client-side validation against ``accepts``: the fixtures' own examples, and broken calls."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from maas_dyn import errors
from maas_dyn.truenas import Client
from maas_dyn.truenas.schema import check_value, validate_params
from tests.truenas.conftest import RELEASES
from tests.truenas.fakes import FakeServer

# Example calls in the servers' own docs that their own schemas reject (the docs are
# stale; the real middleware would refuse these calls too): (release, method) -> why.
STALE_EXAMPLES = {
    ("25.04", "alertservice.create"): "uses the pre-24.10 'settings' field",
    ("25.04", "alertservice.test"): "uses the pre-24.10 'settings' field",
    ("25.04", "cloudsync.create"): "uses the old flat cron fields",
    ("25.04", "pool.create"): "a RAIDZ1 log vdev",
    ("25.04", "smart.test.create"): "uses an old schedule field",
    ("25.10", "certificate.create"): "dns_mapping values are ids, not names",
    ("25.10", "pool.create"): "a RAIDZ1 log vdev",
    ("26.0", "certificate.create"): "dns_mapping values are ids, not names",
    ("26.0", "pool.create"): "a RAIDZ1 log vdev",
}


def _example_calls(text: str) -> list[dict[str, Any]]:
    """Find the JSON call objects written in an example text."""
    decoder = json.JSONDecoder()
    found, index = [], 0
    while (start := text.find("{", index)) >= 0:
        try:
            value, length = decoder.raw_decode(text[start:])
        except ValueError:
            index = start + 1
            continue
        if isinstance(value, dict) and "method" in value and "params" in value:
            found.append(value)
        index = start + length
    return found


@pytest.mark.parametrize("release", RELEASES)
def test_the_documents_own_examples_validate(documents: dict[str, Any], release: str) -> None:
    document = documents[release]
    checked = 0
    rejected = set()
    for name, entry in document.items():
        for schema in entry["accepts"]:
            for example in schema.get("examples", []):
                assert check_value(schema, example, schema.get("_name_", "")) == {}, name
                checked += 1
        for text in (entry.get("examples") or {}).get("websocket", []):
            for call in _example_calls(text):
                if call["method"] != name:
                    continue
                checked += 1
                if validate_params(entry["accepts"], call["params"]):
                    rejected.add((release, name))
    assert checked > 15
    assert rejected == {key for key in STALE_EXAMPLES if key[0] == release}


def test_every_problem_is_reported_at_once(doc2510: Any) -> None:
    problems = validate_params(doc2510["pool.create"]["accepts"], [{
        "name": 5,
        "topology": {"data": [{"type": "RAIDZ9", "disks": ["sda"]},
                              {"type": "MIRROR", "disks": "sdb"}]},
        "encryptoin": True,
    }])
    assert problems == {
        "data.name": ["must be string, not integer"],
        "data.topology.data.0.type": [
            'must be one of "DRAID1", "DRAID2", "DRAID3", "RAIDZ1", "RAIDZ2", "RAIDZ3", '
            '"MIRROR", "STRIPE"'],
        "data.topology.data.1.disks": ["must be array, not string"],
        "data.encryptoin": ["is not a known field; did you mean encryption, "
                            "encryption_options?"],
    }


def test_discriminated_unions(doc2510: Any) -> None:
    accepts = doc2510["auth.login_ex"]["accepts"]
    assert validate_params(accepts, [{"mechanism": "PASSWORD_PLAIN", "username": "a",
                                      "password": "b"}]) == {}
    assert validate_params(accepts, [{"mechanism": "PASSWORD_PLAIN", "username": "a"}]) == {
        "login_data.password": ["is required"]}
    assert "is required one of" in validate_params(accepts, [{"username": "a"}])[
        "login_data.mechanism"][0]
    assert validate_params(accepts, [{"mechanism": ["x"]}])["login_data.mechanism"]


def test_call_level_problems(doc2510: Any) -> None:
    accepts = doc2510["pool.scrub.run"]["accepts"]
    assert validate_params(accepts, []) == {"name": ["is required"]}
    assert "takes at most 2" in validate_params(accepts, ["tank", 1, 2])["(call)"][0]
    assert validate_params(accepts, ["tank", "soon"]) == {
        "threshold": ["must be integer, not string"]}
    # Positions the client filled with published defaults are not checked.
    assert validate_params([{"_name_": "o", "type": "object"}], ["{}"], filled={0}) == {}


S = dict[str, Any]


@pytest.mark.parametrize(("schema", "good", "bad", "message"), [
    ({"type": "integer"}, [1, 2.0], [True, "1", 1.5], "must be integer"),
    ({"type": "number"}, [1, 1.5], [False, None], "must be number"),
    ({"type": "float"}, [1.5], ["x"], "must be float"),
    ({"type": "string", "nullable": True}, ["a", None], [1], "must be string or null"),
    ({"type": "strange"}, [1, "x"], [], ""),
    ({"const": True}, [True], [1], "must be true"),
    ({"enum": [1, "a"]}, [1, "a"], [True, "b"], "must be one of 1, \"a\""),
    ({"type": "string", "minLength": 2, "maxLength": 3}, ["ab"], ["a", "abcd"], "character"),
    ({"type": "string", "pattern": "^/mnt/"}, ["/mnt/x"], ["/tmp"], "must match the pattern"),
    ({"type": "string", "pattern": "(?<=x"}, ["anything"], [], ""),
    ({"minimum": 1, "maximum": 3}, [1, 3, "text"], [0, 4], "must be"),
    ({"exclusiveMinimum": 0, "exclusiveMaximum": 2}, [1], [0, 2], "must be"),
    ({"type": "array", "items": [{"type": "string"}]}, [["a"], []], [[1]], "must be string"),
    ({"type": "array", "items": [{"type": "string"}, {"type": "integer"}]}, [["a", 1]],
     [[None]], "matches none"),
    ({"type": "array", "items": [{}]}, [[1, "a"]], [], ""),
    ({"type": "array", "items": {"type": "integer"}}, [[1]], [["x"]], "must be integer"),
    ({"type": "array", "prefixItems": [{"type": "string"}]}, [["a", 1]], [[1]], "string"),
    ({"type": "array", "minItems": 1, "maxItems": 2}, [[1]], [[], [1, 2, 3]], "item(s)"),
    ({"type": "array", "uniqueItems": True}, [[1, 2]], [[{"a": 1}, {"a": 1}]], "repeat"),
    ({"type": "object", "additionalProperties": {"type": "integer"}}, [{"a": 1}], [{"a": "x"}],
     "must be integer"),
    ({"type": "object", "additionalProperties": False}, [{}], [{"a": 1}], "not a known field"),
    ({"type": "object", "properties": {"a": {"type": "string"}},
      "additionalProperties": {"type": "integer"}}, [{"a": "x", "b": 1}], [{"b": "y"}],
     "must be integer"),
    ({"anyOf": [{"type": "object", "properties": {"a": {"type": "string"}}},
                {"type": "null"}]}, [None, {"a": "x"}], [{"a": 1}], "must be string"),
    ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, ["a", 1], [None],
     "matches none of the allowed shapes (integer, string)"),
    ({"anyOf": [{"const": 1}, {"const": 2}]}, [1], [3], "another shape"),
    ({"oneOf": [{"type": "string"}, {"type": "string", "minLength": 1}]}, ["a"], [1],
     "matches none"),
])
def test_keywords(schema: S, good: list[Any], bad: list[Any], message: str) -> None:
    for value in good:
        assert check_value(schema, value, "p") == {}, value
    for value in bad:
        found = check_value(schema, value, "p")
        assert found, value
        assert message in " ".join(m for msgs in found.values() for m in msgs), found


def test_wrong_container_types_are_not_walked() -> None:
    # Rules for arrays and objects leave other values alone (when no "type" is declared).
    schema: S = {"items": {"type": "integer"}, "minItems": 1, "uniqueItems": True,
                 "required": ["a"], "properties": {"a": {}}, "additionalProperties": False,
                 "prefixItems": [{}], "minLength": 1, "pattern": "x"}
    assert check_value(schema, 5) == {}
    assert check_value({"oneOf": [{"const": 1}],
                        "discriminator": {"propertyName": "t"}}, 2) == {"(value)": ["must be 1"]}


# -- through the client ---------------------------------------------------------------------------

def test_the_client_checks_before_sending(server: FakeServer,
                                          make_client: Callable[..., Client]) -> None:
    client = make_client()
    sent = len(server.calls)
    with pytest.raises(errors.InvalidParametersError) as caught:
        client.pool.create({"name": 5})
    assert caught.value.errors == {"data.topology": ["is required"],
                                   "data.name": ["must be string, not integer"]}
    assert "data.topology: is required" in str(caught.value)
    with pytest.raises(errors.InvalidParametersError):
        client.call("pool.create", {"name": 5})
    assert len(server.calls) == sent  # nothing was sent


def test_validation_can_be_switched_off(server: FakeServer,
                                        make_client: Callable[..., Client]) -> None:
    server.handlers["pool.create"] = lambda data: 1
    client = make_client(validate=False)
    job = client.pool.create({"name": 5})
    assert job.id == 1
    client.validate = True
    with pytest.raises(errors.InvalidParametersError):
        client.pool.create({"name": 5})
