"""The README's "Testing your own scripts" example runs, as a user's test file would."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Testing your own scripts"


def example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"no python block under {SECTION!r}"
    return match.group(1)


def test_the_readme_example_passes(pytester: pytest.Pytester) -> None:
    code = example()
    pytester.makepyfile(test_my_script=code)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:pytest_cov",
                                "-p", "no:asyncio", "-q")
    result.assert_outcomes(passed=code.count("\ndef test_"))
