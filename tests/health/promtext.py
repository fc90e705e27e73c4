"""A strict reader of Prometheus text exposition format 0.0.4, for the tests.

It checks what a scraper would reject: HELP and TYPE before a family's samples, one
TYPE per family, samples of a family together, valid metric and label names, escapes
only of backslash, double quote and newline, no duplicate series, and float values.
"""

from __future__ import annotations

import math
import re

METRIC = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
Series = tuple[tuple[str, str], ...]


def _labels(text: str) -> tuple[Series, str]:
    """Parse ``{a="b",...}`` at the start of text; return the labels and the rest."""
    assert text.startswith("{")
    pos, labels = 1, []
    while text[pos] != "}":
        name = LABEL.match(text, pos)
        assert name, f"bad label name at {text[pos:]!r}"
        pos = name.end()
        assert text[pos:pos + 2] == '="', f"expected =\" at {text[pos:]!r}"
        pos += 2
        value = []
        while text[pos] != '"':
            if text[pos] == "\\":
                escaped = text[pos + 1]
                assert escaped in '\\"n', f"bad escape \\{escaped}"
                value.append({"n": "\n"}.get(escaped, escaped))
                pos += 2
            else:
                assert text[pos] != "\n"
                value.append(text[pos])
                pos += 1
        labels.append((name.group(), "".join(value)))
        pos += 1
        if text[pos] == ",":
            pos += 1
    names = [n for n, _ in labels]
    assert len(names) == len(set(names)), f"repeated label in {text!r}"
    return tuple(labels), text[pos + 1:]


def parse_exposition(text: str) -> dict[str, dict[Series, float]]:
    """Validate exposition text and return ``{family: {labels: value}}``."""
    assert text.endswith("\n")
    families: dict[str, dict[Series, float]] = {}
    helped: set[str] = set()
    typed: set[str] = set()
    current = ""
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            assert METRIC.fullmatch(name) and name not in helped, line
            helped.add(name)
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind == "gauge" and name in helped and name not in typed, line
            typed.add(name)
            families[name] = {}
            current = name
            continue
        assert not line.startswith("#"), line
        name_match = METRIC.match(line)
        assert name_match, line
        name = name_match.group()
        assert name == current, f"{name} outside its family (after {current})"
        rest = line[name_match.end():]
        labels: Series = ()
        if rest.startswith("{"):
            labels, rest = _labels(rest)
        assert rest.startswith(" "), line
        raw = rest[1:]
        value = float(raw)
        assert raw in ("NaN", "+Inf", "-Inf") or math.isfinite(value), line
        assert labels not in families[name], f"duplicate series {line}"
        families[name][labels] = value
    return families
