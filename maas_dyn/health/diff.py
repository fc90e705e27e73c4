"""Release diffs: what changes between two server descriptions.

Both dialects reduce a description to the same shape, an :class:`ApiSurface`:
``{namespace: {operation: OperationShape}}`` where an operation's shape is its
parameters (name -> type text), whether it is a job, and a fingerprint of its docs.
:func:`diff_surfaces` then compares two surfaces. MAAS namespaces are handlers
(official CLI names) and operations their actions; TrueNAS namespaces are the dotted
prefixes and operations the method names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

from maas_dyn._shipped import Dialect, load_shipped
from maas_dyn.errors import DescriptionError
from maas_dyn.maas.describe import Description
from maas_dyn.maas.docparse import parse_action_doc

__all__ = [
    "ApiSurface",
    "OperationShape",
    "ReleaseDiff",
    "diff_releases",
    "diff_surfaces",
    "maas_surface",
    "truenas_surface",
]


class OperationShape(NamedTuple):
    """What a diff compares about one operation.

    Attributes:
        params: Parameter name -> type text.
        job: Whether the operation runs as a job (TrueNAS).
        doc: Fingerprint of its documentation text.
    """

    params: Mapping[str, str]
    job: bool
    doc: str


ApiSurface = dict[str, dict[str, OperationShape]]
"""An API reduced for comparison: namespace (handler) -> operation name -> its shape."""


def _fingerprint(text: str) -> str:
    return hashlib.sha1(" ".join(text.split()).encode(), usedforsecurity=False).hexdigest()


def maas_surface(document: Mapping[str, Any]) -> ApiSurface:
    """Reduce a MAAS describe document to its surface.

    Path parameters count as parameters (type ``path``); documented ``:param`` names
    with their ``:type``.

    Args:
        document: A describe document.

    Returns:
        ``{handler CLI name: {action CLI name: shape}}``.
    """
    surface: ApiSurface = {}
    for handler in Description(document).handlers.values():
        actions: dict[str, OperationShape] = {}
        for action in handler.actions.values():
            parsed = parse_action_doc(action.doc)
            params = dict.fromkeys(handler.params, "path")
            params.update({p.name: p.type_text or "?" for p in parsed.params.values()
                           if p.name not in handler.params})
            actions[action.cli_name] = OperationShape(params, False, _fingerprint(action.doc))
        surface[handler.cli_name] = actions
    return surface


def _schema_type(schema: Any) -> str:
    if not isinstance(schema, Mapping):
        return "?"
    if "type" in schema:
        kind = schema["type"]
        return "|".join(kind) if isinstance(kind, list) else str(kind)
    for combinator in ("anyOf", "oneOf", "allOf"):
        if isinstance(schema.get(combinator), list):
            return "|".join(sorted({_schema_type(s) for s in schema[combinator]}))
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    return "any"


def truenas_surface(methods: Mapping[str, Any]) -> ApiSurface:
    """Reduce a ``core.get_methods`` document to its surface.

    Args:
        methods: ``{method name: metadata}`` as ``core.get_methods`` returns it.

    Returns:
        ``{namespace: {method's last name: shape}}``, e.g. ``{"pool.dataset": {"query": ...}}``.

    Raises:
        DescriptionError: The document is not a mapping of method metadata.
    """
    if not isinstance(methods, Mapping):
        raise DescriptionError("a core.get_methods document maps method names to metadata")
    surface: ApiSurface = {}
    for name, meta in methods.items():
        if not isinstance(meta, Mapping):
            raise DescriptionError(f"metadata of {name!r} is not an object")
        accepts = meta.get("accepts") or []
        params = {
            str(item.get("_name_") or item.get("title") or f"arg{index}"): _schema_type(item)
            for index, item in enumerate(accepts) if isinstance(item, Mapping)
        }
        namespace, _, method = str(name).rpartition(".")
        doc = f"{meta.get('description') or ''}\n{json.dumps(meta.get('examples') or {})}"
        surface.setdefault(namespace, {})[method] = OperationShape(
            params, bool(meta.get("job")), _fingerprint(doc)
        )
    return surface


@dataclass
class ReleaseDiff:
    """Differences between two surfaces (old -> new).

    Attributes:
        old: Label of the old side.
        new: Label of the new side.
        namespaces_added: Handlers/namespaces only in ``new``.
        namespaces_removed: Handlers/namespaces only in ``old``.
        operations_added: ``namespace operation`` only in ``new`` (incl. new namespaces).
        operations_removed: ``namespace operation`` only in ``old``.
        params_added: ``(operation, param)`` new in an operation of both sides.
        params_removed: ``(operation, param)`` gone from an operation of both sides.
        params_retyped: ``(operation, param, old type, new type)``.
        became_jobs: Operations that are jobs in ``new`` but not in ``old``.
        stopped_being_jobs: The reverse.
        doc_only_changes: Operations whose docs changed while the rest did not.
    """

    old: str
    new: str
    namespaces_added: list[str] = field(default_factory=list)
    namespaces_removed: list[str] = field(default_factory=list)
    operations_added: list[str] = field(default_factory=list)
    operations_removed: list[str] = field(default_factory=list)
    params_added: list[tuple[str, str]] = field(default_factory=list)
    params_removed: list[tuple[str, str]] = field(default_factory=list)
    params_retyped: list[tuple[str, str, str, str]] = field(default_factory=list)
    became_jobs: list[str] = field(default_factory=list)
    stopped_being_jobs: list[str] = field(default_factory=list)
    doc_only_changes: int = 0

    def counts(self) -> dict[str, int]:
        """How many of each kind of change."""
        return {key: (value if isinstance(value, int) else len(value))
                for key, value in asdict(self).items() if key not in ("old", "new")}

    def to_json(self) -> str:
        """The diff as JSON (lists of changes plus their counts)."""
        return json.dumps({**asdict(self), "counts": self.counts()}, indent=2)

    def to_text(self) -> str:
        """The diff for a terminal."""
        lines = [f"{self.old} -> {self.new}"]
        lines += [f"  {key.replace('_', ' ')}: {count}" for key, count in self.counts().items()]
        for title, items in self._sections():
            if items:
                lines.append(f"{title}:")
                lines += [f"  {item}" for item in items]
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        """The diff as a Markdown document."""
        lines = [f"# API changes {self.old} -> {self.new}", "", "| change | count |",
                 "|---|---|"]
        lines += [f"| {key.replace('_', ' ')} | {count} |" for key, count in self.counts().items()]
        for title, items in self._sections():
            if items:
                lines += ["", f"## {title}", ""] + [f"- `{item}`" for item in items]
        return "\n".join(lines) + "\n"

    def _sections(self) -> list[tuple[str, list[str]]]:
        return [
            ("Added", self.namespaces_added),
            ("Removed", self.namespaces_removed),
            ("Operations added", self.operations_added),
            ("Operations removed", self.operations_removed),
            ("Parameters added", [f"{op}: {p}" for op, p in self.params_added]),
            ("Parameters removed", [f"{op}: {p}" for op, p in self.params_removed]),
            ("Parameters retyped",
             [f"{op}: {p} {a} -> {b}" for op, p, a, b in self.params_retyped]),
            ("Became jobs", self.became_jobs),
            ("Stopped being jobs", self.stopped_being_jobs),
        ]


def diff_surfaces(old: ApiSurface, new: ApiSurface, old_label: str = "old",
                  new_label: str = "new") -> ReleaseDiff:
    """Compare two surfaces.

    Args:
        old: The earlier surface.
        new: The later surface.
        old_label: Name of the old side in reports.
        new_label: Name of the new side in reports.

    Returns:
        The differences; every list is sorted.
    """
    diff = ReleaseDiff(old_label, new_label)
    diff.namespaces_added = sorted(set(new) - set(old))
    diff.namespaces_removed = sorted(set(old) - set(new))
    for namespace in sorted(set(old) | set(new)):
        before, after = old.get(namespace, {}), new.get(namespace, {})
        diff.operations_added += [f"{namespace} {op}" for op in sorted(set(after) - set(before))]
        diff.operations_removed += [f"{namespace} {op}"
                                    for op in sorted(set(before) - set(after))]
        for op in sorted(set(before) & set(after)):
            _compare(diff, f"{namespace} {op}", before[op], after[op])
    return diff


def _compare(diff: ReleaseDiff, key: str, before: OperationShape, after: OperationShape) -> None:
    added = sorted(set(after.params) - set(before.params))
    removed = sorted(set(before.params) - set(after.params))
    retyped = [(key, p, before.params[p], after.params[p])
               for p in sorted(set(before.params) & set(after.params))
               if before.params[p] != after.params[p]]
    diff.params_added += [(key, p) for p in added]
    diff.params_removed += [(key, p) for p in removed]
    diff.params_retyped += retyped
    if after.job and not before.job:
        diff.became_jobs.append(key)
    if before.job and not after.job:
        diff.stopped_being_jobs.append(key)
    same_shape = not (added or removed or retyped) and before.job == after.job
    if same_shape and before.doc != after.doc:
        diff.doc_only_changes += 1


def diff_releases(dialect: Dialect, old: str, new: str) -> ReleaseDiff:
    """Compare two releases shipped with the package.

    Args:
        dialect: ``"maas"`` or ``"truenas"``.
        old: The earlier release, e.g. ``"3.6"`` or ``"25.10"``.
        new: The later release.

    Returns:
        The differences, labelled with the release names.

    Raises:
        DescriptionError: A release is not shipped.
    """
    surface = maas_surface if dialect == "maas" else truenas_surface
    return diff_surfaces(surface(load_shipped(dialect, old)), surface(load_shipped(dialect, new)),
                         old, new)
