"""``maas-dyn docs`` and ``truenas-dyn docs``: a reference of a release or a live server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from maas_dyn._shipped import load_shipped
from maas_dyn.cli import maas as maas_cli
from maas_dyn.cli import truenas as truenas_cli
from maas_dyn.cli._common.profiles import Profile, ProfileStore
from maas_dyn.maas import Description
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator


def _run(main: Any, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_maas_docs_of_a_release(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(maas_cli.main, capsys, "docs", "3.7", "-o", str(tmp_path))
    handlers = len(Description(load_shipped("maas", "3.7")).handlers)
    assert code == 0
    assert out == f"MAAS 3.7: {2 * (handlers + 1)} files in {tmp_path} " \
                  f"(start at {tmp_path / 'index.html'})\n"
    assert "maas PROFILE machine deploy SYSTEM_ID" in (tmp_path / "machine.md").read_text()


def test_maas_docs_of_a_server_markdown_only(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with MAASSimulator(version="3.5", machines=0) as sim:
        assert maas_cli.main(["login", "lab", sim.url, sim.api_key]) == 0
        code, out = _run(maas_cli.main, capsys, "docs", "lab", "-o", str(tmp_path / "ref"),
                         "--format", "md")
    assert code == 0 and out.endswith(f"(start at {tmp_path / 'ref' / 'index.md'})\n")
    assert not list((tmp_path / "ref").glob("*.html"))


def test_truenas_docs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(truenas_cli.main, capsys, "docs", "26.0", "--to", str(tmp_path / "a"),
                     "--format", "html")
    assert code == 0 and out.startswith("TrueNAS 26.0: ")
    assert (tmp_path / "a" / "pool.dataset.html").exists()
    with TrueNASSimulator() as sim:
        ProfileStore(dialect="truenas").save(
            Profile("nas", sim.url, sim.api_key, dialect="truenas", username=sim.username))
        code, out = _run(truenas_cli.main, capsys, "docs", "nas", "--to", str(tmp_path / "b"))
    assert code == 0 and out.startswith("nas (")
    assert "truenas-dyn PROFILE pool query" in (tmp_path / "b" / "pool.md").read_text()


def test_docs_needs_an_output_directory(capsys: pytest.CaptureFixture[str]) -> None:
    assert maas_cli.main(["docs", "3.7"]) == 2
    assert "--to DIR" in capsys.readouterr().err


def test_docs_old_output_option_still_works(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    # -o is the output format in every other command; the directory is --to DIR now.
    assert truenas_cli.main(["docs", "26.0", "-o", str(tmp_path), "--format", "md"]) == 0
    assert "deprecated; use --to DIR" in capsys.readouterr().err
    assert (tmp_path / "index.md").is_file()
