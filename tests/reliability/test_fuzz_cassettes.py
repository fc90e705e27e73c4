"""Fuzz TrueNAS cassette files through the loader and the replayer's first connection.

A cassette is a file people edit and merge by hand. ``read_cassette`` documents
``ValueError`` for a file that is not a usable cassette; the replayer adds
``CassetteMismatchError``. Nothing else (``KeyError``, ``AttributeError``...) may escape.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from maas_dyn.testing.errors import CassetteMismatchError
from maas_dyn.testing.ws_cassette import WSReplayer, read_cassette
from tests.reliability.fuzzing import fuzz_settings, json_values, record

REAL = Path(__file__).resolve().parents[2] / "cassettes" / "truenas-pool-create.jsonl"
LINES: list[dict[str, Any]] = [json.loads(line) for line in REAL.read_text().splitlines()]


@st.composite
def cassette_bytes(draw: st.DrawFn) -> bytes:
    lines: list[Any] = [dict(line) for line in LINES]
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        kind = draw(st.sampled_from(["drop", "swap", "retype", "remove_key", "replace",
                                     "duplicate"]))
        line = lines[index]
        if kind == "drop" and len(lines) > 1:
            del lines[index]
        elif kind == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[index], lines[other] = lines[other], lines[index]
        elif kind == "duplicate":
            lines.insert(index, line)
        elif kind == "replace":
            lines[index] = draw(json_values)
        elif isinstance(line, dict) and line:
            key = draw(st.sampled_from(sorted(line)))
            if kind == "retype":
                line[key] = draw(json_values)
            else:
                del line[key]
    text = "\n".join(json.dumps(line) for line in lines).encode()
    tail = draw(st.sampled_from([b"", b"\n{", b"\n\xff\xfe", b"\n" + b"[" * 5000, b"\nnull"]))
    cut = draw(st.none() | st.integers(0, len(text)))
    return (text if cut is None else text[:cut]) + tail


def _load_and_connect(path: Path) -> None:
    read_cassette(path)
    replayer = WSReplayer(path)
    link = replayer.open("ws://127.0.0.1:1/api/current", True, 1.0)
    link.close()


@fuzz_settings
@given(cassette_bytes())
def test_broken_cassettes_fail_with_documented_errors(raw: bytes) -> None:
    record("truenas cassettes (loader + replayer)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "session.jsonl"
        path.write_bytes(raw)
        try:
            _load_and_connect(path)
        except (ValueError, CassetteMismatchError) as exc:
            str(exc)


def test_the_real_cassette_loads() -> None:
    assert read_cassette(REAL)
