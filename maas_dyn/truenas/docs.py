"""Signatures and Google-style docstrings of TrueNAS methods, from their metadata.

Everything here runs lazily, for one method at a time, the first time someone looks at
its signature or docstring (``help()``, ``?`` in IPython, ``truenas-dyn ... -h``).
"""

from __future__ import annotations

import functools
import operator
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from maas_dyn._dynamic import POSITIONAL, OperationDetails, Param, python_identifier

__all__ = ["annotation", "method_details", "param_specs", "summary", "type_text"]

Schema = Mapping[str, Any]

_PYTHON_TYPES: Mapping[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "float": float,
    "boolean": bool,
    "null": type(None),
    "object": dict[str, Any],
    "array": list[Any],
}

_RAISES: tuple[tuple[str, str], ...] = (
    ("InvalidParametersError", "The arguments do not match the method's schema (checked "
                               "before sending unless the client's ``validate`` is off)."),
    ("ValidationError", "The server rejected the parameters (``errors`` lists each field)."),
    ("CallError", "The method ran and failed (``errname``, ``reason``)."),
    ("ConnectionClosed", "The connection dropped before the answer; the call was not "
                         "re-sent."),
    ("Timeout", "No answer within the client's call timeout."),
)
_JOB_RAISES = ("JobFailed", "The job ended FAILED or ABORTED (raised by ``Job.wait()``).")

_EXAMPLE_LIMIT = 2000  # characters of examples kept in a docstring


def _types(schema: Schema) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [str(t) for t in declared]
    branches = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(branches, list):
        found: list[str] = []
        for branch in (b for b in branches if isinstance(b, Mapping)):
            found.extend(t for t in _types(branch) if t not in found)
        return found
    return []


def type_text(schema: Schema) -> str:
    """Describe a schema's type in a few words, e.g. ``array of string or null``.

    Args:
        schema: A JSON Schema.

    Returns:
        The text (``any`` when the schema says nothing).
    """
    if "const" in schema:
        return repr(schema["const"])
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return "one of " + ", ".join(repr(v) for v in enum)
    branches = schema.get("anyOf") or schema.get("oneOf")
    if "type" not in schema and isinstance(branches, list):
        shown = (type_text(b) for b in branches if isinstance(b, Mapping))
        return " or ".join(dict.fromkeys(shown)) or "any"
    words = []
    for name in _types(schema):
        if name == "array":
            items = schema.get("items")
            first = items[0] if isinstance(items, list) and items else items
            inner = type_text(first) if isinstance(first, Mapping) and first else ""
            words.append(f"array of {inner}" if inner and inner != "any" else "array")
        else:
            words.append(name)
    return " or ".join(words) or "any"


def annotation(schema: Schema) -> Any:
    """Map a schema to the Python annotation shown in signatures.

    Args:
        schema: A JSON Schema.

    Returns:
        ``str``, ``int | None``, ``dict[str, Any]``... or ``Any``.
    """
    types = [_PYTHON_TYPES.get(name) for name in _types(schema)]
    if not types or any(t is None for t in types):
        return Any
    return functools.reduce(operator.or_, dict.fromkeys(types))


def summary(entry: Mapping[str, Any]) -> str:
    """Return a method's one-line summary.

    Args:
        entry: The method's ``core.get_methods`` metadata.

    Returns:
        The first line of its CLI description or description, or ``""``.
    """
    for key in ("cli_description", "description"):
        text = str(entry.get(key) or "").strip()
        if text:
            return " ".join(text.split("\n\n")[0].split())
    return ""


def _fields(schema: Schema) -> str:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or not properties:
        return ""
    listed = schema.get("required")
    # Only names can be required; anything else in the list (or no list) is ignored.
    required = {r for r in listed if isinstance(r, str)} if isinstance(listed, list) else set()
    shown = [f"``{name}`` ({type_text(sub)}{', required' if name in required else ''})"
             for name, sub in properties.items() if isinstance(sub, Mapping)]
    return "Fields: " + ", ".join(shown) + "."


def _param_text(schema: Schema) -> str:
    parts = [str(schema.get("description") or "").strip()]
    parts.append(_fields(schema))
    if "default" in schema and not schema.get("_required_"):
        parts.append(f"Default: ``{schema['default']!r}``.")
    return " ".join(p for p in parts if p)


def param_specs(accepts: Sequence[Schema]) -> tuple[Param, ...]:
    """Turn ``accepts`` into positional-or-keyword parameters.

    Names that are Python keywords or hold dashes are mapped (``global`` ->
    ``global_``, ``query-filters`` -> ``query_filters``). An optional parameter that
    comes before a required one is shown without a default, since Python allows no
    other order.

    Args:
        accepts: One schema per positional parameter.

    Returns:
        The parameters, in order.
    """
    taken = {"self"}
    required_after = False
    flags: list[bool] = []
    for schema in reversed(accepts):
        required_after = required_after or bool(schema.get("_required_"))
        flags.append(required_after)
    params = []
    for index, (schema, required) in enumerate(zip(accepts, reversed(flags), strict=True)):
        wire = str(schema.get("_name_") or schema.get("title") or f"arg{index}")
        name = python_identifier(wire, taken)
        taken.add(name)
        params.append(Param(
            name=name, wire_name=wire, kind=POSITIONAL, type_text=type_text(schema),
            annotation=annotation(schema), description=_param_text(schema),
            required=required, default=schema.get("default"),
        ))
    return tuple(params)


def _returns(entry: Mapping[str, Any]) -> str:
    returns = entry.get("returns")
    schema = returns[0] if isinstance(returns, list) and returns else None
    text = ""
    if isinstance(schema, Mapping):
        what = str(schema.get("description") or "").strip().rstrip(".")
        text = f"{type_text(schema)}: {what}" if what else type_text(schema)
    if entry.get("job"):
        done = f" whose ``wait()`` returns {text}" if text else ""
        return f"Job: a handle on the job the call started{done}."
    return text or "The method's result."


def _examples(entry: Mapping[str, Any]) -> str:
    examples = entry.get("examples")
    texts: list[str] = []
    if isinstance(examples, Mapping):
        for value in examples.values():
            texts.extend(str(v) for v in (value if isinstance(value, list) else [value]))
    text = "\n\n".join(textwrap.dedent(t).strip() for t in texts if str(t).strip())
    return text[:_EXAMPLE_LIMIT] + ("\n..." if len(text) > _EXAMPLE_LIMIT else "")


def _note(text: str) -> str:
    # The engine indents a note's first line; indent the others to match.
    return textwrap.indent(text, "    ")[4:]


def _accepts(entry: Mapping[str, Any]) -> list[Schema]:
    # The same reading as MethodSpec.accepts: only schema objects describe parameters.
    accepts = entry.get("accepts")
    return [a for a in accepts if isinstance(a, Mapping)] if isinstance(accepts, list) else []


def method_details(name: str, entry: Mapping[str, Any]) -> OperationDetails:
    """Compute a method's parameters and documentation from its metadata.

    Args:
        name: The dotted method name.
        entry: Its ``core.get_methods`` metadata.

    Returns:
        What the engine renders into a signature and a docstring.
    """
    description = str(entry.get("description") or "").strip()
    first, _, rest = description.partition("\n\n")
    head = summary(entry) or f"The TrueNAS method {name}."
    same = " ".join(first.split()).rstrip(".") == head.rstrip(".")
    body = rest.strip() if same or not first else description
    accepts = _accepts(entry)
    notes: list[tuple[str, str]] = []
    if entry.get("job"):
        notes.append(("Job", "Runs as a job: the call returns a Job at once; "
                             "``job.wait(on_progress=...)`` returns the result."))
    if entry.get("uploadable"):
        notes.append(("Upload", f"Takes a file: ``client.upload({name!r}, [...], file)``."))
    if entry.get("downloadable"):
        notes.append(("Download", "Produces a file: "
                                  f"``client.download({name!r}, [...], 'name', dest)``."))
    roles = entry.get("roles")
    if isinstance(roles, list) and roles:
        notes.append(("Roles", ", ".join(str(r) for r in roles)))
    notes.append(("CLI", f"truenas-dyn PROFILE {name.replace('.', ' ')} [JSON-ARG ...]"))
    examples = _examples(entry)
    if examples:
        notes.append(("Examples", _note(examples)))
    raises = _RAISES + ((_JOB_RAISES,) if entry.get("job") else ())
    return OperationDetails(
        summary=head, body=body, params=param_specs(accepts), returns=_returns(entry),
        raises=raises, notes=tuple(notes),
    )
