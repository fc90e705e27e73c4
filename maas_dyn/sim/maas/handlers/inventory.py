"""Where nodes live: availability zones, resource pools and DNS domains."""

from __future__ import annotations

from typing import Any

from maas_dyn.sim.maas import render
from maas_dyn.sim.maas.handlers._common import lookup, lookup_by
from maas_dyn.sim.maas.models import Domain, Pool, Zone
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.responses import BadRequest, NotFound, Response, ValidationFailed
from maas_dyn.sim.maas.validation import Form

INT_MAX = 2**31 - 1


@action("ZonesHandler", "read")
def read_zones(context: Context) -> list[dict[str, Any]]:
    """List zones."""
    return [render.zone(context.state, z) for z in context.state.zones.values()]


@action("ZonesHandler", "create", admin=True)
def create_zone(context: Context) -> dict[str, Any]:
    """Create a zone."""
    state = context.state
    form = Form(context.params)
    name = form.string("name", required=True)
    if name and state.zone_named(name):
        form.error("name", "Physical zone with this Name already exists.")
    description = form.string("description", default="") or ""
    form.validate()
    assert name is not None  # validate() raised otherwise
    zone = Zone(state.next_id("zone"), name, description)
    state.zones[zone.id] = zone
    return render.zone(state, zone)


@action("ZoneHandler", "read")
def read_zone(context: Context) -> dict[str, Any]:
    """Return a zone by name."""
    return render.zone(context.state, _zone(context))


@action("ZoneHandler", "update", admin=True)
def update_zone(context: Context) -> dict[str, Any]:
    """Rename a zone or change its description."""
    state = context.state
    zone = _zone(context)
    form = Form(context.params)
    name = form.string("name")
    if name and name != zone.name and state.zone_named(name):
        form.error("name", "Physical zone with this Name already exists.")
    description = form.string("description")
    form.validate()
    zone.name = name or zone.name
    zone.description = zone.description if description is None else description
    state.touch_all()
    return render.zone(state, zone)


@action("ZoneHandler", "delete", admin=True)
def delete_zone(context: Context) -> None:
    """Delete a zone; its nodes move to the default zone."""
    state = context.state
    zone = _zone(context)
    if zone.id == state.default_zone_id:
        raise BadRequest("This zone is the default zone, it cannot be deleted.")
    for node in state.nodes():
        if node.zone_id == zone.id:
            node.zone_id = state.default_zone_id
    del state.zones[zone.id]
    state.touch_all()


@action("ResourcePoolsHandler", "read")
def read_pools(context: Context) -> list[dict[str, Any]]:
    """List resource pools."""
    return [render.pool(context.state, p) for p in context.state.pools.values()]


@action("ResourcePoolsHandler", "create", admin=True)
def create_pool(context: Context) -> dict[str, Any]:
    """Create a resource pool."""
    state = context.state
    form = Form(context.params)
    name = form.string("name", required=True)
    if name and state.pool_named(name):
        form.error("name", "Resource pool with this Name already exists.")
    description = form.string("description", default="") or ""
    form.validate()
    assert name is not None  # validate() raised otherwise
    pool = Pool(state.next_id("pool"), name, description)
    state.pools[pool.id] = pool
    return render.pool(state, pool)


@action("ResourcePoolHandler", "read")
def read_pool(context: Context) -> dict[str, Any]:
    """Return a resource pool by id or name."""
    return render.pool(context.state, _pool(context))


@action("ResourcePoolHandler", "update", admin=True)
def update_pool(context: Context) -> dict[str, Any]:
    """Rename a resource pool or change its description."""
    state = context.state
    pool = _pool(context)
    form = Form(context.params)
    name = form.string("name")
    if name and name != pool.name and state.pool_named(name):
        form.error("name", "Resource pool with this Name already exists.")
    description = form.string("description")
    form.validate()
    pool.name = name or pool.name
    pool.description = pool.description if description is None else description
    state.touch_all()
    return render.pool(state, pool)


@action("ResourcePoolHandler", "delete", admin=True)
def delete_pool(context: Context) -> None:
    """Delete an empty, non-default resource pool."""
    state = context.state
    pool = _pool(context)
    if pool.id == state.default_pool_id:
        raise ValidationFailed({"__all__": ["This is the default pool, it cannot be deleted."]})
    if any(m.pool_id == pool.id for m in state.machines.values()):
        raise ValidationFailed({"__all__": ["Pool has machines in it, it cannot be deleted."]})
    del state.pools[pool.id]


@action("DomainsHandler", "read")
def read_domains(context: Context) -> list[dict[str, Any]]:
    """List DNS domains."""
    return [render.domain(context.state, d) for d in context.state.domains.values()]


@action("DomainsHandler", "create", admin=True)
def create_domain(context: Context) -> dict[str, Any]:
    """Create a DNS domain."""
    state = context.state
    form = Form(context.params)
    name = form.string("name", required=True)
    if name and state.domain_named(name):
        form.error("name", "Domain with this Name already exists.")
    authoritative = form.boolean("authoritative", default=True)
    ttl = form.integer("ttl", min_value=1)
    form.validate()
    assert name is not None  # validate() raised otherwise
    domain = Domain(state.next_id("domain"), name, authoritative, ttl)
    state.domains[domain.id] = domain
    return render.domain(state, domain)


@action("DomainsHandler", "set_serial", admin=True)
def set_serial(context: Context) -> Response:
    """Set the serial number of the DNS zones."""
    raw = context.params.get("serial")
    if raw is None:
        raise ValidationFailed({"serial": ["Missing parameter"]})
    try:
        serial = int(raw)
    except ValueError:
        raise ValidationFailed({"serial": ["Expected a serial number"]}) from None
    if not 0 < serial <= INT_MAX:
        raise ValidationFailed({"serial": [f"Expected a serial number between 1 and {INT_MAX}"]})
    context.state.config["dns_serial"] = serial
    return Response.json(None)


@action("DomainHandler", "read")
def read_domain(context: Context) -> dict[str, Any]:
    """Return a DNS domain."""
    return render.domain(context.state, _domain(context))


@action("DomainHandler", "update", admin=True)
def update_domain(context: Context) -> dict[str, Any]:
    """Rename a domain or change its TTL or authority."""
    state = context.state
    domain = _domain(context)
    form = Form(context.params)
    name = form.string("name")
    if name and name != domain.name and state.domain_named(name):
        form.error("name", "Domain with this Name already exists.")
    authoritative = form.boolean("authoritative", default=domain.authoritative)
    ttl = form.integer("ttl", min_value=1)
    form.validate()
    domain.name = name or domain.name
    domain.authoritative = authoritative
    domain.ttl = domain.ttl if ttl is None else ttl
    state.touch_all()
    return render.domain(state, domain)


@action("DomainHandler", "delete", admin=True)
def delete_domain(context: Context) -> None:
    """Delete a domain that is neither the default nor in use."""
    state = context.state
    domain = _domain(context)
    if domain.id == state.default_domain_id:
        raise ValidationFailed({"__all__": ["This domain is the default domain, it cannot be "
                                            "deleted."]})
    if any(node.domain_id == domain.id for node in state.nodes()):
        raise ValidationFailed({"__all__": ["Domain is in use by nodes."]})
    del state.domains[domain.id]


@action("DomainHandler", "set_default", admin=True)
def set_default(context: Context) -> dict[str, Any]:
    """Make a domain the default one."""
    domain = _domain(context)
    context.state.default_domain_id = domain.id
    context.state.touch_all()
    return render.domain(context.state, domain)


def _zone(context: Context) -> Zone:
    found = context.state.zone_named(context.arg("name"))
    if found is None:
        raise NotFound("Zone")
    return found


def _pool(context: Context) -> Pool:
    return lookup_by(context.state.pools.values(), context.arg("id"), "ResourcePool",
                     lambda p: p.id, lambda p: p.name)


def _domain(context: Context) -> Domain:
    return lookup(context.state.domains, context.arg("id"), "Domain")

