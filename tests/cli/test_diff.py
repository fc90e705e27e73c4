"""``maas-dyn diff`` and ``truenas-dyn diff``: counts checked against the fixtures."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from maas_dyn._shipped import load_shipped
from maas_dyn.cli import maas as maas_cli
from maas_dyn.cli import truenas as truenas_cli
from maas_dyn.cli._common.profiles import Profile, ProfileStore
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator
from tests.conftest import MAAS_FIXTURES, load_json


def _fixture(dialect: str, name: str, release: str) -> Any:
    """The captured MAAS fixture (tests/fixtures/); TrueNAS's is the release the package ships."""
    if dialect == "maas":
        return load_json(MAAS_FIXTURES / f"{name}.gz")
    return load_shipped("truenas", release)


def _run(main: Any, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _actions(document: Any) -> set[tuple[str, str]]:
    return {(r["name"], a["name"]) for r in document["resources"] for side in ("auth", "anon")
            for a in (r.get(side) or {}).get("actions", [])}


def test_maas_diff_3_6_3_7_counts_match_the_fixtures(capsys: pytest.CaptureFixture[str]) -> None:
    old = _fixture("maas", "describe-generated-maas-src-3.6.5.json", "3.6")
    new = _fixture("maas", "describe-generated-maas-src-3.7.3.json", "3.7")
    code, out, _ = _run(maas_cli.main, capsys, "diff", "3.6", "3.7", "-o", "json")
    assert code == 0
    counts = json.loads(out)["counts"]
    old_resources = {r["name"] for r in old["resources"]}
    new_resources = {r["name"] for r in new["resources"]}
    assert counts["namespaces_added"] == len(new_resources - old_resources)
    assert counts["namespaces_removed"] == len(old_resources - new_resources)
    assert counts["operations_added"] == len(_actions(new) - _actions(old))
    assert counts["operations_removed"] == len(_actions(old) - _actions(new))
    assert counts["became_jobs"] == counts["stopped_being_jobs"] == 0
    code, text, _ = _run(maas_cli.main, capsys, "diff", "3.6", "3.7")
    assert text.startswith("MAAS 3.6 -> MAAS 3.7\n")
    code, markdown, _ = _run(maas_cli.main, capsys, "diff", "3.0", "3.1", "-o", "markdown")
    assert markdown.startswith("# API changes MAAS 3.0 -> MAAS 3.1") and "- `vm-cluster`" in markdown


def test_truenas_diff_25_10_26_0_counts_match_the_fixtures(
        capsys: pytest.CaptureFixture[str]) -> None:
    old = _fixture("truenas", "get_methods-GENERATED-middleware-TS-25.10.5.json", "25.10")
    new = _fixture("truenas", "get_methods-GENERATED-middleware-TS-26.0.0-BETA.3.json", "26.0")
    code, out, _ = _run(truenas_cli.main, capsys, "diff", "25.10", "26.0", "-o", "json")
    assert code == 0
    counts = json.loads(out)["counts"]
    both = set(old) & set(new)
    assert counts["operations_added"] == len(set(new) - set(old))
    assert counts["operations_removed"] == len(set(old) - set(new))
    assert counts["became_jobs"] == sum(1 for m in both if new[m]["job"] and not old[m]["job"])
    namespaces = lambda doc: {m.rpartition(".")[0] for m in doc}  # noqa: E731
    assert counts["namespaces_added"] == len(namespaces(new) - namespaces(old))
    assert counts["namespaces_removed"] == len(namespaces(old) - namespaces(new))


def test_diff_sides_from_files_and_servers(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    packed = tmp_path / "old.json.gz"
    packed.write_bytes(gzip.compress(json.dumps(load_shipped("maas", "3.6")).encode()))
    with MAASSimulator(version="3.7", machines=0) as sim:
        assert maas_cli.main(["login", "lab", sim.url, sim.api_key]) == 0
        code, out, _ = _run(maas_cli.main, capsys, "diff", str(packed), "lab", "-o", "json")
    assert code == 0
    document = json.loads(out)
    assert document["old"] == "old.json.gz" and document["new"].startswith("lab (")
    assert document["counts"] == json.loads(_run(maas_cli.main, capsys, "diff", "3.6", "3.7",
                                                 "-o", "json")[1])["counts"]
    plain = tmp_path / "new.json"
    plain.write_text(json.dumps(load_shipped("truenas", "26.0")))
    with TrueNASSimulator(version="25.10") as nas:
        ProfileStore(dialect="truenas").save(
            Profile("nas", nas.url, nas.api_key, dialect="truenas", username=nas.username))
        code, out, _ = _run(truenas_cli.main, capsys, "diff", "nas", str(plain))
    assert code == 0 and out.startswith("nas (") and out.splitlines()[0].endswith("-> new.json")


@pytest.mark.parametrize(("main", "expected"), [(maas_cli.main, 2), (truenas_cli.main, 2)])
def test_diff_unknown_side(main: Any, expected: int, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(main, capsys, "diff", "9.9", "nothing-here")
    assert code == expected and "a shipped release" in err and "a description file" in err


def test_diff_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "junk.json").write_text("{not json")
    code, _, err = _run(maas_cli.main, capsys, "diff", str(tmp_path / "list.json"), "3.7")
    assert code == 1 and "not a description" in err
    code, _, err = _run(truenas_cli.main, capsys, "diff", "25.10", str(tmp_path / "junk.json"))
    assert code == 1 and "cannot read a description" in err

