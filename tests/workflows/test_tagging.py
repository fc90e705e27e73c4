"""Tests of maas_dyn/workflows/tagging.py against the MAAS simulator."""

from __future__ import annotations

import pytest

from maas_dyn.maas import Client
from maas_dyn.workflows import select_machines, tagging
from maas_dyn.workflows.tagging import TagRule


def test_rules_check_their_fact_and_operator() -> None:
    with pytest.raises(ValueError, match="fact must be one of"):
        TagRule("x", "colour", ">=", 1)
    with pytest.raises(ValueError, match="op one of"):
        TagRule("x", "memory", "~", 1)


@pytest.mark.parametrize(("rule", "machine", "expected"), [
    (TagRule("big", "memory", ">=", 65536), {"memory": 131072}, True),
    (TagRule("big", "memory", ">=", 65536), {"memory": 8192}, False),
    (TagRule("big", "memory", ">=", 65536), {}, False),  # not reported: never guessed
    (TagRule("big", "memory", ">=", 65536), {"memory": "lots"}, False),  # wrong type
    (TagRule("arm", "architecture", "startswith", "arm64/"), {"architecture": "arm64/xgene"},
     True),
    (TagRule("few", "cpu_count", "in", (2, 4)), {"cpu_count": 4}, True),
])
def test_rule_matching(rule: TagRule, machine: dict[str, object], expected: bool) -> None:
    assert rule.matches(machine) is expected


def test_plan_skips_tags_a_machine_has_and_duplicate_rules() -> None:
    rules = [TagRule("big", "cpu_count", ">=", 8), TagRule("big", "memory", ">=", 1),
             TagRule("small", "cpu_count", "<", 8)]
    machines = [{"system_id": "a", "cpu_count": 16, "memory": 1, "tag_names": []},
                {"system_id": "b", "cpu_count": 16, "memory": 1, "tag_names": ["big"]},
                {"system_id": "c", "cpu_count": 4, "memory": 0}]
    assert tagging.plan_tags(machines, rules) == {"big": ["a"], "small": ["c"]}


def test_new_machines_are_found_and_tagged_with_kernel_options(maas: Client) -> None:
    new = tagging.find_new_machines(maas)
    assert [m["status_name"] for m in new] == ["New"]
    rules = [TagRule("fresh", "cpu_count", ">=", 1, kernel_opts="quiet", comment="new ones")]
    report = tagging.tag_new_machines(maas, rules)
    assert report.machines == 1 and report.created == ["fresh"]
    assert report.applied == {"fresh": [new[0]["system_id"]]}
    tag = maas.tag.read("fresh")
    assert (tag["kernel_opts"], tag["comment"]) == ("quiet", "new ones")
    assert "fresh" in maas.machine.read(new[0]["system_id"])["tag_names"]


def test_the_whole_fleet_by_the_default_rules_is_idempotent(maas: Client) -> None:
    machines = select_machines(maas)
    report = tagging.tag_machines(maas, machines)
    expected = {rule.tag for rule in tagging.DEFAULT_RULES
                if any(rule.matches(m) for m in machines)}
    assert set(report.applied) == expected == set(report.created)
    big = [m["system_id"] for m in machines if m["memory"] >= 128 * 1024]
    assert report.applied["hugepages-1g"] == big
    again = tagging.tag_machines(maas, select_machines(maas))
    assert again.applied == {} and again.created == [] and again.machines == 10


def test_ensure_tags_brings_existing_tags_in_line(maas: Client) -> None:
    maas.tags.create(name="big", kernel_opts="old", comment="")
    maas.tags.create(name="same", kernel_opts="", comment="")
    rules = [TagRule("big", "memory", ">=", 1, kernel_opts="new"),
             TagRule("same", "memory", ">=", 1), TagRule("other", "memory", ">=", 1)]
    report = tagging.ensure_tags(maas, rules)
    assert report.updated == ["big"] and report.created == ["other"]
    assert maas.tag.read("big")["kernel_opts"] == "new"
