"""The README's two commands and the CI scripts that run them agree."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.match(r"# [^\n]+\n\n```sh\n(.*?)\n```\n", text, re.DOTALL)
    assert match, "the README must start with its sh block of commands"
    return match.group(1).splitlines()


def test_the_readme_starts_with_exactly_two_commands() -> None:
    install_and_demo, install_and_test = _readme_commands()
    assert install_and_demo.endswith("maas-dyn demo") and "'.[sim]'" in install_and_demo
    assert install_and_test.endswith("python -m pytest") and "'.[test]'" in install_and_test


def test_ci_runs_the_readme_test_command_and_the_python_matrix() -> None:
    run = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert _readme_commands()[1] in run.splitlines()
    # Every Python the package claims besides the default python3 gets a matrix leg.
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    claimed = set(re.findall(r"Python :: (3\.\d+)$", config["metadata"]["classifiers"], re.M))
    legs = set(re.findall(r"\.ci/matrix (3\.\d+)\.\d+$", run, re.M))
    assert legs == {"3.10", "3.12", "3.13"} and legs < claimed
    matrix = (ROOT / ".ci" / "matrix").read_text(encoding="utf-8")
    assert 'PYENV_VERSION=$version bash -c "$first"' in matrix  # the README's line, as is
    assert "lowest-bounds.txt" in matrix
