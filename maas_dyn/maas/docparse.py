"""Parse the reStructuredText-ish action docs of a describe document.

MAAS action docs are a summary line, prose, then ``:param NAME: ...`` and
``:type NAME: ...`` fields (with irregular indentation and wrapped lines), sometimes
``:param-example``, ``:return:``/``:returns:``/``:rtype:`` fields. Anything else stays prose.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_FIELD = re.compile(
    r"^\s*:(param-example|param|type|returns?|rtype|success-example|success|error-example|error)"
    r"(?:\s+([^:\n]+?))?\s*:\s?(.*)$"
)
_REQUIRED = re.compile(r"^\W*required\b", re.IGNORECASE)
# Field kind -> the DocParam attribute it fills.
_PARAM_FIELDS = {"param": "text", "type": "type_text", "param-example": "example"}
_RETURN_FIELDS = frozenset({"return", "returns", "success"})


# Prose that lists a parameter's values, in the wordings MAAS's docs use: "Possible
# values are: ``standard``, ``ovs``", "Cache mode: ``WRITEBACK``, ...", "Can be ``node``,
# ``cpu`` or ``gpu``", "Required. ``AUTO``, ``DHCP`` or ``STATIC`` ...". At least two
# literals; "e.g." lists and "(``virsh`` ... only)" notes are examples, not choices.
_CHOICES = re.compile(
    r"(?:(?:possible|valid|allowed|accepted) values (?:are|include)|available options are|"
    r"supported|choose from|(?:this )?can be(?: either)?|may be|one of|"
    r"(?:^|\.\s)(?:required|optional)\.|\w:)\s*:?\s*"
    r"(``[^`]+``(?:(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+)``[^`]+``)+)",
    re.IGNORECASE)
_LITERAL = re.compile(r"``([^`]+)``")


class DocParam(NamedTuple):
    """A parameter documented in an action doc.

    Attributes:
        name: The name as the server spells it (may contain dashes).
        text: Its description, whitespace normalised.
        type_text: Its ``:type`` (the last one given), or ``""``.
        required: Whether the text starts with "Required".
        example: Its ``:param-example`` text, if any.
    """

    name: str
    text: str = ""
    type_text: str = ""
    required: bool = False
    example: str = ""

    @property
    def choices(self) -> tuple[str, ...]:
        """The values the text lists ("Possible values are: ``a``, ``b``"), or ``()``."""
        found = _CHOICES.search(self.text)
        return tuple(dict.fromkeys(_LITERAL.findall(found.group(1)))) if found else ()


class ParsedDoc(NamedTuple):
    """An action doc split into its parts.

    Attributes:
        summary: The first line.
        body: Prose after the summary, fields removed.
        params: Documented parameters, in order of first mention.
        returns: Text of ``:return:``/``:returns:``/``:success:`` fields.
        has_params: Whether the doc has any ``:param`` field at all (the official CLI
            only accepts ``key=value`` on such actions).
    """

    summary: str
    body: str = ""
    params: dict[str, DocParam] = {}  # noqa: RUF012 - NamedTuple fields are read-only
    returns: str = ""
    has_params: bool = False


def parse_action_doc(doc: str | None) -> ParsedDoc:
    """Split an action doc into summary, prose, parameters and return text.

    Args:
        doc: The ``doc`` string of an action (may be ``None`` or empty).

    Returns:
        The parsed doc. Never raises on odd formatting: what is not a field is prose.
    """
    lines = (doc or "").strip("\n").splitlines()
    summary = lines[0].strip() if lines else ""
    fields: dict[str, dict[str, str]] = {}
    returns: list[str] = []
    body: list[str] = []
    current: tuple[str, str, list[str]] | None = None

    def flush() -> None:
        if current is None:
            return
        kind, name, text = current
        joined = " ".join(" ".join(text).split())
        if kind in _RETURN_FIELDS:
            returns.append(joined)
        elif name and kind in _PARAM_FIELDS:
            fields.setdefault(name, {})[_PARAM_FIELDS[kind]] = joined

    for line in lines[1:]:
        match = _FIELD.match(line)
        if match:
            flush()
            current = (match.group(1), (match.group(2) or "").strip(), [match.group(3)])
        elif current is not None and line.strip():
            current[2].append(line)
        else:
            flush()
            current = None
            body.append(line)
    flush()
    params = {
        name: DocParam(name, values.get("text", ""), values.get("type_text", ""),
                       bool(_REQUIRED.match(values.get("text", ""))), values.get("example", ""))
        for name, values in fields.items()
    }
    return ParsedDoc(
        summary=summary,
        body=re.sub(r"\n{3,}", "\n\n", "\n".join(body)).strip(),
        params=params,
        returns=" ".join(returns).strip(),
        has_params=any("text" in values for values in fields.values()),
    )
