"""Shell completion: the scripts, the hidden helper, and bash running the script."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from maas_dyn.cli._common.profiles import Profile, ProfileStore

from .conftest import API, ROOT, Result


def complete(cli: Callable[..., Result], *words: str) -> list[str]:
    result = cli("__complete", *words)
    assert result.code == 0 and result.err == ""
    return result.out.splitlines()


def test_first_word(cli: Callable[..., Result]) -> None:
    found = complete(cli, "")
    assert "login" in found and "admin" in found and "__complete" not in found
    assert complete(cli, "lo") == ["login", "logout"]
    assert complete(cli, "ad") == ["admin"]


def test_handlers_actions_and_params(cli: Callable[..., Result]) -> None:
    assert complete(cli, "admin", "mach") == ["machine", "machines"]
    assert complete(cli, "admin", "machine", "dep") == ["deploy"]
    assert complete(cli, "admin", "machine", "deploy", "abc", "distro") == ["distro_series="]
    assert "hwe_kernel=" in complete(cli, "admin", "machine", "deploy", "abc", "")
    assert complete(cli, "admin", "machine", "deploy", "abc", "--ti") == ["--timeout"]
    assert complete(cli, "admin", "-o", "table", "machines", "rea") == ["read"]
    assert complete(cli, "admin", "machines", "read", "-o", "") == ["json", "yaml", "table"]


def test_values_the_docs_list_are_offered(cli: Callable[..., Result]) -> None:
    assert complete(cli, "admin", "machine", "set-storage-layout", "abc", "storage_layout=") == [
        f"storage_layout={v}" for v in ("flat", "lvm", "bcache", "vmfs6", "vmfs7", "custom",
                                        "blank")]
    assert complete(cli, "admin", "interfaces", "create-bond", "abc",
                    "bond_lacp_rate=f") == ["bond_lacp_rate=fast"]
    # "e.g." lists are examples, not choices
    assert complete(cli, "admin", "dnsresource-records", "create", "rrtype=") == []


def test_nothing_to_complete(cli: Callable[..., Result], store: ProfileStore) -> None:
    assert complete(cli, "admin", "machine", "deploy", "abc", "distro_series=ja") == []
    assert complete(cli, "admin", "machine", "deploy", "abc", "distro_series=", "") == []
    assert complete(cli, "admin", "nosuch", "") == []
    assert complete(cli, "admin", "machine", "nosuch", "") == []
    assert complete(cli, "unknown-profile", "") == []
    assert complete(cli, "login", "") == []
    (store.root / "broken.json").write_text("{")
    assert complete(cli, "broken", "") == []
    store.save(Profile("bare", API + "/"))
    assert complete(cli, "bare", "") == []


def test_meta_commands(cli: Callable[..., Result]) -> None:
    assert complete(cli, "logout", "") == ["admin"]
    assert complete(cli, "refresh", "a") == ["admin"]
    assert complete(cli, "completion", "") == ["bash", "zsh", "fish"]
    assert complete(cli, "completion", "bash", "") == []


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_scripts(cli: Callable[..., Result], shell: str) -> None:
    result = cli("completion", shell)
    assert result.code == 0 and "maas-dyn __complete" in result.out
    assert ("complete -o default -F" if shell == "bash" else "compdef _maas_dyn") in result.out


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_runs_the_script(store: ProfileStore, tmp_path: Path) -> None:
    shim = tmp_path / "bin" / "maas-dyn"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m maas_dyn.cli.maas "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{shim.parent}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT)}

    def bash_complete(line: str) -> list[str]:
        words = line.split(" ")
        script = (
            'source <(maas-dyn completion bash)\n'
            f'COMP_WORDS=({" ".join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n'
            '_maas_dyn_complete; printf "%s\\n" "${COMPREPLY[@]}"\n'
        )
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env,
                              timeout=60, check=True)
        return [line for line in done.stdout.splitlines() if line]

    assert bash_complete("maas-dyn adm") == ["admin"]
    assert bash_complete("maas-dyn admin vm-h") == ["vm-host", "vm-hosts"]
    assert bash_complete("maas-dyn admin machine deploy abc distro_s") == ["distro_series="]
