"""Parse the reStructuredText-ish action docs of a describe document.

MAAS action docs are a summary line, prose, then ``:param NAME: ...`` and
``:type NAME: ...`` fields (with irregular indentation and wrapped lines), sometimes
``:param-example``, ``:return:``/``:returns:``/``:rtype:`` fields. Anything else stays prose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FIELD = re.compile(
    r"^\s*:(param-example|param|type|returns?|rtype|success-example|success|error-example|error)"
    r"(?:\s+([^:\n]+?))?\s*:\s?(.*)$"
)
_REQUIRED = re.compile(r"^\W*required\b", re.IGNORECASE)


@dataclass
class DocParam:
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


@dataclass
class ParsedDoc:
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
    params: dict[str, DocParam] = field(default_factory=dict)
    returns: str = ""
    has_params: bool = False


def _flush(kind: str, name: str, text: list[str], doc: ParsedDoc) -> None:
    joined = " ".join(" ".join(text).split())
    if kind in ("return", "returns", "success"):
        doc.returns = (doc.returns + " " + joined).strip()
        return
    if not name or kind not in ("param", "type", "param-example"):
        return
    param = doc.params.setdefault(name, DocParam(name))
    if kind == "param":
        doc.has_params = True
        param.text = joined
        param.required = bool(_REQUIRED.match(joined))
    elif kind == "type":
        param.type_text = joined
    else:
        param.example = joined


def parse_action_doc(doc: str | None) -> ParsedDoc:
    """Split an action doc into summary, prose, parameters and return text.

    Args:
        doc: The ``doc`` string of an action (may be ``None`` or empty).

    Returns:
        The parsed doc. Never raises on odd formatting: what is not a field is prose.
    """
    lines = (doc or "").strip("\n").splitlines()
    summary = lines[0].strip() if lines else ""
    parsed = ParsedDoc(summary=summary)
    body: list[str] = []
    kind, name = "", ""
    text: list[str] = []
    for line in lines[1:]:
        match = _FIELD.match(line)
        if match:
            _flush(kind, name, text, parsed)
            kind, name, text = match.group(1), (match.group(2) or "").strip(), [match.group(3)]
        elif kind and line.strip():
            text.append(line)
        else:
            if kind:
                _flush(kind, name, text, parsed)
                kind, name, text = "", "", []
            body.append(line)
    _flush(kind, name, text, parsed)
    parsed.body = re.sub(r"\n{3,}", "\n\n", "\n".join(body)).strip()
    return parsed
