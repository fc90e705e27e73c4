"""Tests of release diffs, with counts computed independently from the fixtures."""

from __future__ import annotations

import json
from typing import Any

import pytest

from maas_dyn._shipped import load_shipped
from maas_dyn.errors import DescriptionError
from maas_dyn.health.diff import diff_surfaces, maas_surface, truenas_surface
from tests.conftest import MAAS_FIXTURES, load_json


def _maas_ops(document: Any) -> set[tuple[str, str, str | None]]:
    """(resource, method, op) of every auth-or-anon action, straight from the JSON."""
    found = set()
    for resource in document["resources"]:
        for side in ("auth", "anon"):
            for action in (resource.get(side) or {}).get("actions", []):
                found.add((resource["name"], action["name"]))
    return found


def test_maas_3_6_to_3_7_counts_match_an_independent_count() -> None:
    old, new = load_shipped("maas", "3.6"), load_shipped("maas", "3.7")
    diff = diff_surfaces(maas_surface(old), maas_surface(new), "3.6", "3.7")
    old_resources = {r["name"] for r in old["resources"]}
    new_resources = {r["name"] for r in new["resources"]}
    assert len(diff.namespaces_added) == len(new_resources - old_resources)
    assert len(diff.namespaces_removed) == len(old_resources - new_resources)
    old_ops, new_ops = _maas_ops(old), _maas_ops(new)
    assert len(diff.operations_added) == len(new_ops - old_ops)
    assert len(diff.operations_removed) == len(old_ops - new_ops)
    docs_old, docs_new = _docs(old), _docs(new)
    differing = sum(1 for key in set(docs_old) & set(docs_new) if docs_old[key] != docs_new[key])
    with_param_changes = ({op for op, _ in diff.params_added}
                          | {op for op, _ in diff.params_removed}
                          | {change[0] for change in diff.params_retyped})
    # Parameters come from the docs, so every changed operation is one or the other.
    assert diff.doc_only_changes + len(with_param_changes) == differing
    assert differing > 0


def _docs(document: Any) -> dict[tuple[str, str], str]:
    """(resource, action) -> doc, the auth handler's winning over the anon one's."""
    return {(r["name"], a["name"]): a["doc"] for r in document["resources"]
            for side in ("anon", "auth") for a in (r.get(side) or {}).get("actions", [])}


def test_maas_3_0_to_3_1_adds_vm_clusters() -> None:
    diff = diff_surfaces(maas_surface(load_shipped("maas", "3.0")),
                         maas_surface(load_shipped("maas", "3.1")))
    assert diff.namespaces_added == ["vm-cluster", "vm-clusters"]
    assert "vm-clusters read" in diff.operations_added


def test_truenas_25_10_to_26_0_counts_match_an_independent_count() -> None:
    old, new = load_shipped("truenas", "25.10"), load_shipped("truenas", "26.0")
    diff = diff_surfaces(truenas_surface(old), truenas_surface(new), "25.10", "26.0")
    assert len(diff.operations_added) == len(set(new) - set(old))
    assert len(diff.operations_removed) == len(set(old) - set(new))
    both = set(old) & set(new)
    assert len(diff.became_jobs) == sum(1 for m in both if new[m]["job"] and not old[m]["job"])
    assert len(diff.stopped_being_jobs) == sum(1 for m in both
                                              if old[m]["job"] and not new[m]["job"])
    old_namespaces = {m.rpartition(".")[0] for m in old}
    new_namespaces = {m.rpartition(".")[0] for m in new}
    assert len(diff.namespaces_added) == len(new_namespaces - old_namespaces)
    names = lambda meta: [a.get("_name_") for a in meta["accepts"]]  # noqa: E731
    assert len(diff.params_added) == sum(len(set(names(new[m])) - set(names(old[m])))
                                         for m in both)


def test_outputs() -> None:
    diff = diff_surfaces(maas_surface(load_shipped("maas", "3.5")),
                         maas_surface(load_shipped("maas", "3.6")), "3.5", "3.6")
    data = json.loads(diff.to_json())
    assert data["counts"]["namespaces_added"] == len(diff.namespaces_added) == 2
    assert diff.to_text().startswith("3.5 -> 3.6\n")
    assert "## Added" in diff.to_markdown() and "- `reserved-ip`" in diff.to_markdown()


def test_same_release_has_no_changes() -> None:
    surface = maas_surface(load_shipped("maas", "3.7"))
    assert all(v == 0 for v in diff_surfaces(surface, surface).counts().values())


def test_pretty_fixture_without_handlers_key_diffs_like_the_raw_one() -> None:
    pretty = MAAS_FIXTURES / "describe-python-libmaas-2.1.pretty.json.gz"
    raw = load_shipped("maas", "2.1")
    assert all(v == 0 for v in diff_surfaces(maas_surface(raw),
                                             maas_surface(load_json(pretty))).counts().values())


def test_bad_truenas_documents_and_schema_types() -> None:
    with pytest.raises(DescriptionError):
        truenas_surface([])  # type: ignore[arg-type]
    with pytest.raises(DescriptionError, match="'x'"):
        truenas_surface({"x": 1})
    shape = truenas_surface({"ping": {"job": True, "accepts": [
        {"_name_": "a", "anyOf": [{"type": "string"}, {"type": "null"}]},
        {"_name_": "b", "$ref": "#/$defs/Options"}, {"_name_": "c"},
        {"title": "d", "type": ["integer", "null"]}, "junk"]}})[""]["ping"]
    assert shape.params == {"a": "null|string", "b": "Options", "c": "any", "d": "integer|null"}
    assert shape.job


def test_diff_releases_is_the_shipped_diff() -> None:
    from maas_dyn.health.diff import diff_releases

    maas = diff_releases("maas", "3.0", "3.1")
    assert (maas.old, maas.new) == ("3.0", "3.1")
    assert maas.namespaces_added == ["vm-cluster", "vm-clusters"]
    truenas = diff_releases("truenas", "25.10", "26.0")
    assert truenas.counts() == diff_surfaces(
        truenas_surface(load_shipped("truenas", "25.10")),
        truenas_surface(load_shipped("truenas", "26.0"))).counts()
