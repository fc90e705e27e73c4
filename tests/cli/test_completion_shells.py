"""Completion of both CLIs: the helper's candidates, and the scripts run by real shells.

bash always runs (the CLIs' scripts are bash first); zsh and fish run where they are
installed and the tests skip cleanly where they are not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from maas_dyn._shipped import load_shipped
from maas_dyn.cli._common.profiles import Profile, ProfileStore
from maas_dyn.cli.truenas import main as truenas_main
from maas_dyn.cli.truenas.catalog import build_index

from .conftest import ROOT, Result


@pytest.fixture
def nas_store() -> ProfileStore:
    """A truenas-dyn profile "nas" as login leaves it: the 25.10 methods and their index."""
    document = load_shipped("truenas", "25.10")
    profiles = ProfileStore(dialect="truenas")
    profiles.save(Profile("nas", "wss://nas.test/api/current", "1-key", document, "truenas",
                          "admin"), build_index(document))
    return profiles


def truenas_complete(capsys: pytest.CaptureFixture[str], *words: str) -> list[str]:
    assert truenas_main(["__complete", *words]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out.splitlines()


def maas_complete(cli: Callable[..., Result], *words: str) -> list[str]:
    result = cli("__complete", *words)
    assert result.code == 0 and result.err == ""
    return result.out.splitlines()


# -- the helper, in-process -------------------------------------------------------------------

def test_truenas_commands_profiles_and_namespaces(nas_store: ProfileStore,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    first = truenas_complete(capsys, "")
    assert {"login", "list", "completion", "diff", "docs", "sim", "nas"} <= set(first)
    assert "__complete" not in first and "profiles" not in first  # hidden spellings
    after = truenas_complete(capsys, "nas", "")
    assert {"call", "ping", "subscribe", "health", "pool", "disk"} <= set(after)
    assert truenas_complete(capsys, "nas", "pool", "datas") == ["dataset"]
    assert "query" in truenas_complete(capsys, "nas", "pool", "dataset", "")
    assert truenas_complete(capsys, "nas", "call", "pool.datas")[0].startswith("pool.dataset.")
    assert truenas_complete(capsys, "nas", "call", "core.ping", "-o", "") == [
        "json", "yaml", "table"]
    assert "--job" in truenas_complete(capsys, "nas", "call", "core.ping", "--")


def test_truenas_documented_choices(nas_store: ProfileStore,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    # disk.wipe(dev, mode): mode's schema is an enum.
    assert truenas_complete(capsys, "nas", "disk", "wipe", "sda", "") == [
        "QUICK", "FULL", "FULL_RANDOM"]
    assert truenas_complete(capsys, "nas", "call", "disk.wipe", "sda", "F") == [
        "FULL", "FULL_RANDOM"]
    assert truenas_complete(capsys, "nas", "disk", "wipe", "") == []  # a free-form device


def test_truenas_meta_commands(nas_store: ProfileStore,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert truenas_complete(capsys, "completion", "") == ["bash", "zsh", "fish"]
    assert truenas_complete(capsys, "logout", "") == ["nas"]
    assert {"25.10", "26.0", "nas"} <= set(truenas_complete(capsys, "diff", ""))
    assert "nas" in truenas_complete(capsys, "docs", "")
    assert truenas_complete(capsys, "nosuch", "") == []
    # A profile without its stored document completes commands only.
    ProfileStore(dialect="truenas").save(Profile("bare", "wss://x/api/current", "1-k",
                                                 dialect="truenas"))
    assert truenas_complete(capsys, "bare", "") == ["call", "ping", "subscribe", "health"]


def test_maas_sim_diff_workflow_health(cli: Callable[..., Result]) -> None:
    assert "health" in maas_complete(cli, "admin", "")
    assert maas_complete(cli, "sim", "") == ["maas", "truenas"]
    assert {"3.7", "admin"} <= set(maas_complete(cli, "diff", ""))
    assert {"3.7", "admin"} <= set(maas_complete(cli, "diff", "3.6", ""))
    assert maas_complete(cli, "diff", "3.6", "3.7", "") == []
    assert maas_complete(cli, "workflow", "") == ["admin"]
    assert {"provision", "release", "tag", "power"} <= set(
        maas_complete(cli, "workflow", "admin", ""))
    assert {"workflow", "diff", "sim", "completion"} <= set(maas_complete(cli, ""))


@pytest.mark.parametrize("prog", ["maas-dyn", "truenas-dyn"])
def test_every_script_names_its_program(prog: str, capsys: pytest.CaptureFixture[str],
                                        cli: Callable[..., Result]) -> None:
    for shell in ("bash", "zsh", "fish"):
        if prog == "maas-dyn":
            result = cli("completion", shell)
            code, out = result.code, result.out
        else:
            code = truenas_main(["completion", shell])
            out = capsys.readouterr().out
        assert code == 0 and f"{prog} __complete" in out
        assert ("maas-dyn" in out) == (prog == "maas-dyn")
    assert truenas_main(["completion", "tcsh"]) == 2
    assert "supported: bash, zsh, fish" in capsys.readouterr().err


# -- real shells --------------------------------------------------------------------------------

@pytest.fixture
def shell_env(tmp_path: Path, store: ProfileStore, nas_store: ProfileStore) -> dict[str, str]:
    """PATH with both programs (shims running this checkout) and the test's profiles."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for prog, module in (("maas-dyn", "maas_dyn.cli.maas"),
                         ("truenas-dyn", "maas_dyn.cli.truenas")):
        shim = folder / prog
        shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m {module} "$@"\n')
        shim.chmod(0o755)
    return {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}


def _run(command: list[str], env: dict[str, str]) -> list[str]:
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120,
                          check=True)
    return [line.split("\t")[0] for line in done.stdout.splitlines() if line.strip()]


def _bash(line: str, env: dict[str, str]) -> list[str]:
    words = line.split(" ")
    prog = words[0]
    function = "_" + prog.replace("-", "_") + "_complete"
    script = (f"source <({prog} completion bash)\n"
              f'COMP_WORDS=({" ".join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n'
              f'{function}; printf "%s\\n" "${{COMPREPLY[@]}}"\n')
    return _run(["bash", "-c", script], env)


def _zsh(line: str, env: dict[str, str]) -> list[str]:
    words = line.split(" ")
    prog = words[0]
    # compadd and compdef exist only inside zle; stand-ins print what would be offered.
    script = ("compdef() { :; }\n"
              "compadd() { while [[ $1 == -* && $1 != -- ]]; do "
              "[[ $1 == -S ]] && shift; shift; done; shift; print -l -- \"$@\"; }\n"
              "_files() { :; }\n"
              f"source <({prog} completion zsh)\n"
              f'words=({" ".join(repr(w) for w in words)}); CURRENT={len(words)}\n'
              f"_{prog.replace('-', '_')}\n")
    return _run(["zsh", "-f", "-c", script], env)


def _fish(line: str, env: dict[str, str]) -> list[str]:
    prog = line.split(" ", maxsplit=1)[0]
    return _run(["fish", "--no-config", "-c",
                 f"{prog} completion fish | source; complete -C '{line}'"], env)


SHELLS = {"bash": _bash, "zsh": _zsh, "fish": _fish}


@pytest.mark.parametrize("shell", list(SHELLS))
def test_shells_run_the_scripts_of_both_programs(shell: str, shell_env: dict[str, str]) -> None:
    if shutil.which(shell) is None:
        if shell == "bash":
            pytest.fail("bash is needed: completion is tested in a real bash")
        pytest.skip(f"{shell} is not installed")
    complete = SHELLS[shell]
    assert complete("truenas-dyn na", shell_env) == ["nas"]
    assert complete("truenas-dyn nas pool datas", shell_env) == ["dataset"]
    assert complete("truenas-dyn nas disk wipe sda FULL", shell_env) == ["FULL", "FULL_RANDOM"]
    assert complete("truenas-dyn completion f", shell_env) == ["fish"]
    assert complete("maas-dyn adm", shell_env) == ["admin"]
    assert complete("maas-dyn admin machine deploy abc distro_s", shell_env) == [
        "distro_series="]
    assert complete("maas-dyn sim tru", shell_env) == ["truenas"]
    assert complete("maas-dyn workflow admin prov", shell_env) == ["provision"]
