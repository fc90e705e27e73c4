"""Tags: the tag catalogue, manual tagging of nodes, and tag-filtered node lists.

Tags with a ``definition`` are applied by MAAS by evaluating XPath over commissioning
hardware data; the simulator has no such data, so it refuses definitions with 501
rather than pretend to have applied them.
"""

from __future__ import annotations

import re
from typing import Any

from maas_dyn.sim.maas import render
from maas_dyn.sim.maas.handlers._common import node_list
from maas_dyn.sim.maas.models import Device, Machine, Tag
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.responses import NotFound, Response
from maas_dyn.sim.maas.state import Node
from maas_dyn.sim.maas.validation import Form

TAG_NAME = re.compile(r"^[\w-]+$")


@action("TagsHandler", "read")
def read_tags(context: Context) -> list[dict[str, Any]]:
    """List every tag."""
    return [render.tag(context.state, tag) for tag in context.state.tags.values()]


@action("TagsHandler", "create", admin=True)
def create_tag(context: Context) -> dict[str, Any]:
    """Create a tag."""
    state = context.state
    form = Form(context.params)
    name = form.string("name", required=True)
    if name and not TAG_NAME.match(name):
        form.error("name", "Invalid character in the tag name.")
    elif name in state.tags:
        form.error("name", "Tag with this Name already exists.")
    comment = form.string("comment", default="") or ""
    kernel_opts = form.string("kernel_opts", default="") or ""
    definition = form.string("definition", default="") or ""
    form.validate()
    if definition:
        raise context.not_modelled("tag definitions (XPath over hardware data)")
    assert name is not None  # validate() raised otherwise
    tag = Tag(state.next_id("tag"), name, "", comment, kernel_opts)
    state.tags[name] = tag
    return render.tag(state, tag)


@action("TagHandler", "read")
def read_tag(context: Context) -> dict[str, Any]:
    """Return a tag."""
    return render.tag(context.state, _tag(context))


@action("TagHandler", "update", admin=True)
def update_tag(context: Context) -> dict[str, Any]:
    """Rename a tag or change its comment or kernel options."""
    state = context.state
    tag = _tag(context)
    form = Form(context.params)
    name = form.string("name")
    if name is not None and not TAG_NAME.match(name):
        form.error("name", "Invalid character in the tag name.")
    elif name is not None and name != tag.name and name in state.tags:
        form.error("name", "Tag with this Name already exists.")
    comment = form.string("comment")
    kernel_opts = form.string("kernel_opts")
    definition = form.string("definition")
    form.validate()
    if definition:
        raise context.not_modelled("tag definitions (XPath over hardware data)")
    if name is not None and name != tag.name:
        for node in state.nodes():
            node.tag_names = [name if t == tag.name else t for t in node.tag_names]
        del state.tags[tag.name]
        tag.name = name
        state.tags[name] = tag
        state.touch_all()
    if comment is not None:
        tag.comment = comment
    if kernel_opts is not None:
        tag.kernel_opts = kernel_opts
    return render.tag(state, tag)


@action("TagHandler", "delete", admin=True)
def delete_tag(context: Context) -> None:
    """Delete a tag and take it off every node."""
    state = context.state
    tag = _tag(context)
    for node in state.nodes():
        if tag.name in node.tag_names:
            node.tag_names.remove(tag.name)
    del state.tags[tag.name]
    state.touch_all()


@action("TagHandler", "update_nodes", admin=True)
def update_nodes(context: Context) -> Any:
    """Add the tag to some nodes and remove it from others."""
    state = context.state
    tag = _tag(context)
    definition = context.params.get("definition")
    if definition is not None and definition != tag.definition:
        return Response.text(
            f"Definition supplied '{definition}' doesn't match current definition "
            f"'{tag.definition}'",
            409,
        )
    added = removed = 0
    for system_id in dict.fromkeys(context.params.get_list("add")):
        node = _find(context, system_id)
        if node is not None and tag.name not in node.tag_names:
            node.tag_names.append(tag.name)
            state.touch(node)
        added += node is not None
    for system_id in dict.fromkeys(context.params.get_list("remove")):
        node = _find(context, system_id)
        if node is not None and tag.name in node.tag_names:
            node.tag_names.remove(tag.name)
            state.touch(node)
        removed += node is not None
    return {"added": added, "removed": removed}


@action("TagHandler", "rebuild", admin=True)
def rebuild(context: Context) -> dict[str, str]:
    """Re-evaluate the tag (manual tags have nothing to re-evaluate)."""
    return {"rebuilding": _tag(context).name}


@action("TagHandler", "nodes")
def tagged_nodes(context: Context) -> bytes:
    """List every node carrying the tag."""
    name = _tag(context).name
    return node_list(context, (n for n in context.state.nodes() if name in n.tag_names))


@action("TagHandler", "machines")
def tagged_machines(context: Context) -> bytes:
    """List the machines carrying the tag."""
    return _tagged(context, Machine)


@action("TagHandler", "devices")
def tagged_devices(context: Context) -> bytes:
    """List the devices carrying the tag."""
    return _tagged(context, Device)


@action("TagHandler", "rack_controllers")
def tagged_rack_controllers(context: Context) -> list[Any]:
    """List rack controllers carrying the tag; the simulated region has none."""
    _tag(context)
    return []


@action("TagHandler", "region_controllers")
def tagged_region_controllers(context: Context) -> list[Any]:
    """List region controllers carrying the tag; the simulated region has none."""
    _tag(context)
    return []


def _tag(context: Context) -> Tag:
    found = context.state.tags.get(context.arg("name"))
    if found is None:
        raise NotFound("Tag")
    return found


def _find(context: Context, system_id: str) -> Node | None:
    state = context.state
    return state.machines.get(system_id) or state.devices.get(system_id)


def _tagged(context: Context, kind: type[Machine] | type[Device]) -> bytes:
    name = _tag(context).name
    return node_list(
        context,
        (n for n in context.state.nodes() if isinstance(n, kind) and name in n.tag_names),
    )
