"""The served description: the shipped ``core.get_methods`` document of one release.

Everything the simulator knows about a method's contract (parameters, job or not,
authentication, pipes) comes from here, never from hand-written tables. The document is
read by the client's own reader (:class:`maas_dyn.truenas.methods.Methods`), so client and
simulator agree on which methods a document has; the server-side view of each method
(:class:`MethodSpec`: pipes, authentication, filterable) stays here because only the
server acts on it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from maas_dyn._shipped import load_shipped, shipped_releases
from maas_dyn.errors import DescriptionError
from maas_dyn.truenas.methods import Methods

__all__ = ["API_VERSIONS", "Catalog", "MethodSpec", "served_api_versions"]

_CRUD_VERBS = frozenset({"query", "create", "update", "delete", "get_instance"})
_CONFIG_VERBS = frozenset({"config", "update"})


@dataclass(frozen=True)
class MethodSpec:
    """One method of the description.

    Attributes:
        name: Dotted method name.
        accepts: One JSON Schema per positional parameter.
        returns: The return value's schema (a one-element list).
        job: The method runs as a job.
        no_auth_required: The method may be called before login.
        filterable: The method takes query filters and options.
        pipes: Pipes the caller must open (``"input"`` for uploads, ``"output"`` for
            downloads); empty when the method does not insist.
    """

    name: str
    accepts: list[dict[str, Any]]
    returns: list[dict[str, Any]]
    job: bool
    no_auth_required: bool
    filterable: bool
    pipes: tuple[str, ...]

    @classmethod
    def from_entry(cls, name: str, entry: dict[str, Any]) -> MethodSpec:
        """Build a spec from one entry of a ``core.get_methods`` document.

        Args:
            name: The method name (the entry's key).
            entry: The entry.

        Returns:
            The spec.
        """
        pipes = [pipe for pipe, flag in (("input", "uploadable"), ("output", "downloadable"))
                 if entry.get(flag)]
        accepts = entry.get("accepts")
        return cls(
            name=name,
            # Non-object entries are skipped, as the client's reader skips them.
            accepts=[a for a in accepts if isinstance(a, dict)] if isinstance(accepts, list)
            else [],
            returns=list(entry.get("returns") or []),
            job=bool(entry.get("job")),
            no_auth_required=bool(entry.get("no_auth_required")),
            filterable=bool(entry.get("filterable")),
            pipes=tuple(pipes) if entry.get("check_pipes") is True else (),
        )


@functools.cache
def _document(release: str) -> dict[str, Any]:
    # Parsed once per process: decompressing a description takes a noticeable moment and
    # the document is never modified.
    document: dict[str, Any] = load_shipped("truenas", release)
    return document


def _version_of(release: str) -> str:
    parts = [*release.split("."), "0", "0"][:3]
    return "v" + ".".join(parts)


def _sort_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.lstrip("v").split(".") if part.isdigit())


# API versions a release serves under /api/<version>: the version folders of
# src/middlewared/middlewared/api/ at the newest tag of each release line in
# truenas/middleware (TS-25.04.2.6, TS-25.10.6, TS-26.0.0-BETA.3). main.py adds a route
# per folder; /api/versions lists every one but v24.10 (api_versions_handler).
API_VERSIONS: dict[str, tuple[str, ...]] = {
    "25.04": ("v24.10", "v25.04.0", "v25.04.1", "v25.04.2"),
    "25.10": ("v24.10", "v25.04.0", "v25.04.1", "v25.04.2", "v25.10.0", "v25.10.1",
              "v25.10.2", "v25.10.3", "v25.10.4", "v25.10.5"),
    "26.0": ("v24.10", "v25.04.0", "v25.04.1", "v25.04.2", "v25.10.0", "v25.10.1",
             "v25.10.2", "v25.10.3", "v25.10.4", "v26.0.0"),
}
# Served, but left out of GET /api/versions.
UNLISTED_API_VERSIONS = frozenset({"v24.10"})


def served_api_versions(release: str) -> tuple[str, ...]:
    """List the API versions a release serves under ``/api/<version>``, oldest first.

    A release the table does not know (a description given with ``--description``)
    serves what the newest older release in the table serves, plus its own version.

    Args:
        release: e.g. ``"25.10"``.

    Returns:
        e.g. ``("v24.10", "v25.04.0", ..., "v25.10.5")``.
    """
    if release in API_VERSIONS:
        return API_VERSIONS[release]
    own = _version_of(release)
    older = [known for known in API_VERSIONS if _sort_key(known) < _sort_key(release)]
    inherited = API_VERSIONS[max(older, key=_sort_key)] if older else ()
    return tuple(sorted({*inherited, own}, key=_sort_key))


class Catalog:
    """The description of one release, as served by the simulator.

    Args:
        release: A release shipped with the package, e.g. ``"25.10"``, or the name to
            serve ``document`` under.
        document: A ``core.get_methods`` document to serve instead of the shipped one
            (any release, also one the package has never seen).

    Raises:
        ValueError: ``document`` is not a ``{method name: metadata}`` object.
    """

    def __init__(self, release: str, document: dict[str, Any] | None = None):
        self.release = release
        if document is None:
            document = _document(release)
        # The client's reader (maas_dyn.truenas.methods.Methods) checks the document and
        # picks the usable names, so that both sides see the same set of methods; what
        # the server needs of each (pipes, auth, job) is read here.
        try:
            reader = Methods(document)
        except DescriptionError as exc:
            raise ValueError(str(exc)) from None
        self.document = document
        self.methods = {name: MethodSpec.from_entry(name, dict(spec.entry))
                        for name, spec in reader.specs.items()}
        self.api_version = _version_of(release)
        self.api_versions = served_api_versions(release)
        if self.api_version not in self.api_versions:
            self.api_versions = tuple(sorted({*self.api_versions, self.api_version},
                                             key=_sort_key))

    @property
    def listed_api_versions(self) -> list[str]:
        """Answer ``GET /api/versions``: the served versions but the unlisted ones."""
        return [v for v in self.api_versions if v not in UNLISTED_API_VERSIONS]

    @staticmethod
    def releases() -> list[str]:
        """List the releases the simulator can serve.

        Returns:
            Release names, oldest first.
        """
        return shipped_releases("truenas")

    def get(self, name: str) -> MethodSpec | None:
        """Look a method up.

        Args:
            name: Dotted method name.

        Returns:
            Its spec, or ``None`` when the release has no such method.
        """
        return self.methods.get(name)

    def item_schema(self, namespace: str) -> dict[str, Any]:
        """Find the schema of one object of a CRUD namespace.

        Args:
            namespace: e.g. ``"pool.dataset"``.

        Returns:
            The object schema from ``<namespace>.get_instance`` (or ``.create``) returns;
            an empty schema when the release has neither.
        """
        for verb in ("get_instance", "create"):
            spec = self.methods.get(f"{namespace}.{verb}")
            if spec and spec.returns and isinstance(spec.returns[0], dict):
                return spec.returns[0]
        return {}

    def result_schema(self, method: str) -> dict[str, Any]:
        """Return the schema of a method's return value.

        Args:
            method: Dotted method name.

        Returns:
            The schema, or an empty one when the release lacks the method.
        """
        spec = self.methods.get(method)
        return spec.returns[0] if spec and spec.returns else {}

    def element_schema(self, method: str) -> dict[str, Any]:
        """Return the schema of one element of a method's list result.

        Query results are unions (a list, one object, a count); this picks the list's item,
        else the object.

        Args:
            method: Dotted method name, e.g. ``"core.get_jobs"``.

        Returns:
            The element schema, or an empty one.
        """
        result = self.result_schema(method)
        branches = [b for b in result.get("anyOf", [result]) if isinstance(b, dict)]
        for branch in branches:
            items = branch.get("items")
            if branch.get("type") == "array" and isinstance(items, list) and items:
                return dict(items[0])
        for branch in branches:
            if isinstance(branch.get("properties"), dict):
                return branch
        return {}

    def methods_document(self, service: str | None = None) -> dict[str, Any]:
        """Answer ``core.get_methods``.

        Args:
            service: Only methods of this service (``"pool.dataset"`` lists
                ``pool.dataset.query`` but not ``pool.dataset.snapshot...``).

        Returns:
            ``{method_name: metadata}``.
        """
        if service is None:
            return self.document
        return {name: entry for name, entry in self.document.items()
                if name.rsplit(".", 1)[0] == service}

    def services(self) -> dict[str, Any]:
        """Answer ``core.get_services``.

        Returns:
            ``{service_name: {"config": {...}, "type": "crud"|"config"|"service"}}``.
        """
        verbs: dict[str, set[str]] = {}
        for name in self.document:
            service, _, verb = name.rpartition(".")
            verbs.setdefault(service, set()).add(verb)
        return {service: {"config": _service_config(service), "type": _service_type(found)}
                for service, found in sorted(verbs.items())}


def _service_type(verbs: set[str]) -> str:
    if _CRUD_VERBS.issubset(verbs):
        return "crud"
    if _CONFIG_VERBS.issubset(verbs):
        return "config"
    return "service"


def _service_config(service: str) -> dict[str, Any]:
    # The keys the middleware exposes from a service's Config class.
    return {
        "datastore": None,
        "datastore_prefix": "",
        "datastore_extend": None,
        "datastore_extend_fk": None,
        "datastore_extend_context": None,
        "datastore_primary_key": "id",
        "datastore_primary_key_type": "integer",
        "event_register": True,
        "event_send": True,
        "service": None,
        "service_verb": "reload",
        "service_verb_sync": True,
        "namespace": service,
        "namespace_alias": None,
        "private": False,
        "cli_namespace": None,
        "cli_private": False,
        "cli_description": None,
        "role_prefix": None,
        "role_separate_delete": False,
        "verbose_name": service.replace(".", " ").title().replace(" ", ""),
    }
