"""Reports how many examples each fuzzer tried (terminal summary and a JSON file)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.reliability.fuzzing import TRIED


@pytest.fixture(scope="session", autouse=True)
def _fuzz_report(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    yield
    if TRIED:
        path = tmp_path_factory.getbasetemp() / "fuzz-examples.json"
        path.write_text(json.dumps(dict(sorted(TRIED.items())), indent=2), encoding="utf-8")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TRIED:
        terminalreporter.section("fuzz examples tried")
        for name, count in sorted(TRIED.items()):
            terminalreporter.write_line(f"{name}: {count}")
