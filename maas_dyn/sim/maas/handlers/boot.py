"""Boot images: resources, their import, the sources they come from and selections.

Importing takes simulated time like everything else; no image is ever downloaded.
"""

from __future__ import annotations

from typing import Any

from maas_dyn.sim.maas import render
from maas_dyn.sim.maas.handlers._common import lookup
from maas_dyn.sim.maas.models import BootSource, BootSourceSelection
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.responses import NotFound, Response, ValidationFailed
from maas_dyn.sim.maas.validation import Form, invalid_choice

# Simulated seconds an image import takes.
IMPORT_DURATION = 600.0
RESOURCE_TYPES = ("synced", "uploaded", "generated")


@action("BootResourcesHandler", "read")
def read_resources(context: Context) -> list[dict[str, Any]]:
    """List boot resources, optionally of one type."""
    wanted = context.params.get("type")
    if wanted is not None and wanted not in RESOURCE_TYPES:
        raise ValidationFailed({"type": [invalid_choice(wanted)]})
    return [
        render.boot_resource(context.state, r)
        for r in context.state.boot_resources.values()
        if wanted is None or r.type.lower() == wanted
    ]


@action("BootResourcesHandler", "import", admin=True)
def start_import(context: Context) -> Response:
    """Start importing images from the boot sources."""
    state = context.state
    state.import_finishes_at = state.clock.now() + IMPORT_DURATION
    return Response.text("Import of boot resources started")


@action("BootResourcesHandler", "is_importing")
def is_importing(context: Context) -> bool:
    """Tell whether an import is running."""
    finishes = context.state.import_finishes_at
    return finishes is not None and context.state.clock.now() < finishes


@action("BootResourcesHandler", "stop_import", admin=True)
def stop_import(context: Context) -> Response:
    """Stop a running import."""
    context.state.import_finishes_at = None
    return Response.text("Import of boot resources is being stopped")


@action("BootResourceHandler", "read")
def read_resource(context: Context) -> dict[str, Any]:
    """Return a boot resource with its newest set, whose ``complete`` tells it is synced."""
    resource = lookup(context.state.boot_resources, context.arg("id"), "BootResource")
    newest: dict[str, Any] = {
        "version": resource.version, "label": "stable", "size": resource.size,
        "complete": resource.complete, "files": {},
    }
    if not resource.complete:  # MAAS shows progress only while a set is incomplete
        newest["progress"] = resource.progress
    return {**render.boot_resource(context.state, resource),
            "sets": {resource.version: newest}}


@action("BootResourceHandler", "delete", admin=True)
def delete_resource(context: Context) -> None:
    """Delete a boot resource."""
    resource = lookup(context.state.boot_resources, context.arg("id"), "BootResource")
    del context.state.boot_resources[resource.id]


@action("BootSourcesHandler", "read", admin=True)
def read_sources(context: Context) -> list[dict[str, Any]]:
    """List boot sources."""
    return [render.boot_source(context.state, s) for s in context.state.boot_sources.values()]


@action("BootSourcesHandler", "create", admin=True)
def create_source(context: Context) -> dict[str, Any]:
    """Add a boot source."""
    state = context.state
    form = Form(context.params)
    url = form.string("url", required=True)
    keyring_filename = form.string("keyring_filename", default="") or ""
    keyring_data = form.string("keyring_data", default="") or ""
    if url and any(s.url == url for s in state.boot_sources.values()):
        form.error("url", "Boot source with this Url already exists.")
    form.validate()
    assert url is not None  # validate() raised otherwise
    now = state.clock.now()
    source = BootSource(state.next_id("bootsource"), url, keyring_filename, keyring_data, now,
                        now)
    state.boot_sources[source.id] = source
    return render.boot_source(state, source)


@action("BootSourceHandler", "read", admin=True)
def read_source(context: Context) -> dict[str, Any]:
    """Return a boot source."""
    return render.boot_source(context.state, _source(context, context.arg("id")))


@action("BootSourceHandler", "update", admin=True)
def update_source(context: Context) -> dict[str, Any]:
    """Change a boot source."""
    state = context.state
    source = _source(context, context.arg("id"))
    form = Form(context.params)
    url = form.string("url")
    keyring_filename = form.string("keyring_filename")
    keyring_data = form.string("keyring_data")
    form.validate()
    source.url = url or source.url
    source.keyring_filename = (
        source.keyring_filename if keyring_filename is None else keyring_filename
    )
    source.keyring_data = source.keyring_data if keyring_data is None else keyring_data
    source.updated = state.clock.now()
    return render.boot_source(state, source)


@action("BootSourceHandler", "delete", admin=True)
def delete_source(context: Context) -> None:
    """Delete a boot source and its selections."""
    state = context.state
    source = _source(context, context.arg("id"))
    for selection_id in [
        s.id for s in state.boot_source_selections.values() if s.boot_source_id == source.id
    ]:
        del state.boot_source_selections[selection_id]
    del state.boot_sources[source.id]


@action("BootSourceSelectionsHandler", "read", admin=True)
def read_selections(context: Context) -> list[dict[str, Any]]:
    """List the selections of a boot source."""
    source = _source(context, context.arg("boot_source_id"))
    return [
        render.boot_source_selection(context.state, s)
        for s in context.state.boot_source_selections.values()
        if s.boot_source_id == source.id
    ]


@action("BootSourceSelectionsHandler", "create", admin=True)
def create_selection(context: Context) -> dict[str, Any]:
    """Select images of a boot source to import."""
    state = context.state
    source = _source(context, context.arg("boot_source_id"))
    form = Form(context.params)
    os_name = form.string("os", required=True)
    release = form.string("release", required=True)
    if any(
        s.boot_source_id == source.id and s.os == os_name and s.release == release
        for s in state.boot_source_selections.values()
    ):
        form.error("__all__", "Boot source selection with this Boot source, Os and Release "
                   "already exists.")
    form.validate()
    assert os_name is not None and release is not None  # validate() raised otherwise
    selection = BootSourceSelection(
        state.next_id("bootsourceselection"),
        source.id,
        os_name,
        release,
        context.params.get_list("arches") or ["*"],
        context.params.get_list("subarches") or ["*"],
        context.params.get_list("labels") or ["*"],
    )
    state.boot_source_selections[selection.id] = selection
    return render.boot_source_selection(state, selection)


@action("BootSourceSelectionHandler", "read", admin=True)
def read_selection(context: Context) -> dict[str, Any]:
    """Return a boot source selection."""
    return render.boot_source_selection(context.state, _selection(context))


@action("BootSourceSelectionHandler", "update", admin=True)
def update_selection(context: Context) -> dict[str, Any]:
    """Change a boot source selection."""
    selection = _selection(context)
    params = context.params
    selection.os = params.get("os") or selection.os
    selection.release = params.get("release") or selection.release
    for field in ("arches", "subarches", "labels"):
        if params.has(field):
            setattr(selection, field, params.get_list(field))
    return render.boot_source_selection(context.state, selection)


@action("BootSourceSelectionHandler", "delete", admin=True)
def delete_selection(context: Context) -> None:
    """Delete a boot source selection."""
    del context.state.boot_source_selections[_selection(context).id]


def _source(context: Context, raw: str) -> BootSource:
    return lookup(context.state.boot_sources, raw, "BootSource")


def _selection(context: Context) -> BootSourceSelection:
    source = _source(context, context.arg("boot_source_id"))
    selection = lookup(context.state.boot_source_selections, context.arg("id"),
                       "BootSourceSelection")
    if selection.boot_source_id != source.id:
        raise NotFound("BootSourceSelection")
    return selection
