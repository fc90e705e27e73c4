"""Simple object kinds described as data: the MAAS simulator's CRUD helper.

Static routes, package repositories, SSL keys, notifications, DHCP snippets, DNS
resources and records, license keys, scripts, reserved IPs, VM hosts and clusters,
bcaches and VMFS datastores: each kind is a table of fields (type, default, required,
unique) plus where it lives (collection and item handler, path keys, the node it
belongs to); reading parameters, validating, storing, rendering and the five RESTful
actions work the same for all of them (:mod:`maas_dyn.sim.maas.handlers.records`).
A new simple resource is a new row, not new code.
"""

from __future__ import annotations

import base64
import copy
import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from maas_dyn.sim.maas import render
from maas_dyn.sim.maas.models import Record
from maas_dyn.sim.maas.request import Params
from maas_dyn.sim.maas.responses import ValidationFailed
from maas_dyn.sim.maas.state import State
from maas_dyn.sim.maas.validation import REQUIRED, Form, invalid_choice

FieldKind = Literal["text", "bool", "int", "float", "list", "json", "choice", "subnet",
                    "user", "file"]
Check = Callable[[State, dict[str, Any]], dict[str, list[str]]]
Extra = Callable[[State, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Field:
    """One field of a record kind.

    Attributes:
        name: Parameter and JSON name.
        kind: How the value is read and rendered.
        required: Whether creation needs it.
        default: Value when not given (copied, so lists and mappings are safe).
        choices: Accepted values of ``choice`` fields.
        unique: Whether two records may not share the value.
    """

    name: str
    kind: FieldKind = "text"
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    unique: bool = False


def _no_problems(state: State, values: dict[str, Any]) -> dict[str, list[str]]:
    return {}


@dataclass(frozen=True)
class RecordKind:
    """A kind of simple object and the handlers that serve it.

    Attributes:
        key: Storage key in ``State.records``.
        collection: Name of the collection handler (read, create).
        item: Name of the item handler (read, update, delete).
        uri: URI segment, e.g. ``static-routes/``.
        model: Model name for 404 texts.
        fields: The fields, in rendering order.
        admin_writes: Whether creating, updating and deleting need a superuser.
        updatable: Whether the item handler has ``update``.
        per_user: Whether users only see their own records.
        check: Cross-field validation returning field errors.
        keys: The item handler's path parameters that find a record: ``("id",)`` (the
            id, or the ``name_field`` value, as MAAS's ``get_object_by_specifiers``
            accepts) or field names (license keys: ``("osystem", "distro_series")``).
        name_field: A field that also identifies a record in the ``id`` path parameter.
        scope: Path parameters of the collection that own a record (``("system_id",)``
            for a node's bcaches); records are listed and found within their scope.
        item_uri: Template of an item's URI below the API prefix, formatted with the
            record's values, its scope and ``id`` (default: ``uri`` + ``{id}/``).
        creatable: Whether the collection handler has ``create``.
        tag_field: A list field that ``add_tag``/``remove_tag`` (param ``tag``) change.
        computed: Computed fields rendered after the stored ones (they may replace a
            stored name by the object it names, as MAAS renders related objects).
    """

    key: str
    collection: str
    item: str
    uri: str
    model: str
    fields: tuple[Field, ...]
    admin_writes: bool = True
    updatable: bool = True
    per_user: bool = False
    check: Check = _no_problems
    keys: tuple[str, ...] = ("id",)
    name_field: str | None = None
    scope: tuple[str, ...] = ()
    item_uri: str | None = None
    creatable: bool = True
    tag_field: str | None = None
    computed: Extra | None = None


def _route_gateway(state: State, values: dict[str, Any]) -> dict[str, list[str]]:
    source = state.subnets[values["source"]]
    try:
        gateway = ipaddress.ip_address(values["gateway_ip"])
    except ValueError:
        return {"gateway_ip": ["Enter a valid IPv4 or IPv6 address."]}
    if gateway not in ipaddress.ip_network(source.cidr):
        return {"gateway_ip": ["Gateway IP must be in the source subnet."]}
    return {}


def _certificate(state: State, values: dict[str, Any]) -> dict[str, list[str]]:
    if "-----BEGIN CERTIFICATE-----" not in values["key"]:
        return {"key": ["Invalid SSL key."]}
    return {}


STATIC_ROUTES = RecordKind(
    "staticroute",
    "StaticRoutesHandler",
    "StaticRouteHandler",
    "static-routes/",
    "StaticRoute",
    (
        Field("source", "subnet", required=True),
        Field("destination", "subnet", required=True),
        Field("gateway_ip", required=True),
        Field("metric", "int", default=0),
    ),
    check=_route_gateway,
)
PACKAGE_REPOSITORIES = RecordKind(
    "packagerepository",
    "PackageRepositoriesHandler",
    "PackageRepositoryHandler",
    "package-repositories/",
    "PackageRepository",
    (
        Field("name", required=True, unique=True),
        Field("url", required=True),
        Field("distributions", "list", default=[]),
        Field("disabled_pockets", "list", default=[]),
        Field("disabled_components", "list", default=[]),
        Field("disable_sources", "bool", default=True),
        Field("components", "list", default=[]),
        Field("arches", "list", default=["amd64", "i386"]),
        Field("key", default=""),
        Field("enabled", "bool", default=True),
    ),
)
SSL_KEYS = RecordKind(
    "sslkey",
    "SSLKeysHandler",
    "SSLKeyHandler",
    "account/prefs/sslkeys/",
    "SSLKey",
    (Field("key", required=True),),
    admin_writes=False,
    updatable=False,
    per_user=True,
    check=_certificate,
)
NOTIFICATIONS = RecordKind(
    "notification",
    "NotificationsHandler",
    "NotificationHandler",
    "notifications/",
    "Notification",
    (
        Field("ident"),
        Field("user", "user"),
        Field("users", "bool", default=False),
        Field("admins", "bool", default=False),
        Field("message", required=True),
        Field("context", "json", default={}),
        Field("category", "choice", default="info",
              choices=("error", "warning", "success", "info")),
        Field("dismissable", "bool", default=True),
    ),
)
# The rows below follow the forms and handlers of maasserver (forms/dhcpsnippet.py,
# forms/dnsresource.py, forms/dnsresourcerecord.py, forms/license_key.py, forms/script.py,
# forms/reservedip.py, forms/pods.py, forms/vmcluster.py, forms/bcache.py,
# forms/vmfs.py and the matching api/ modules): field names, required fields, choices.


def _reserved_ip(state: State, values: dict[str, Any]) -> dict[str, list[str]]:
    # ReservedIPForm: the address must parse and, when a subnet is named, lie in it.
    try:
        address = ipaddress.ip_address(values["ip"])
    except ValueError:
        return {"ip": ["Enter a valid IPv4 or IPv6 address."]}
    subnet = state.subnets.get(values["subnet"]) if values["subnet"] is not None else None
    if subnet is not None and address not in ipaddress.ip_network(subnet.cidr):
        return {"ip": ["The provided IP is not part of the subnet."]}
    return {}


DHCP_SNIPPETS = RecordKind(
    "dhcpsnippet", "DHCPSnippetsHandler", "DHCPSnippetHandler", "dhcp-snippets/",
    "DHCPSnippet",
    (
        Field("name", required=True),
        Field("value", required=True),
        Field("description", default=""),
        Field("enabled", "bool", default=True),
        Field("node", default=None),
        Field("subnet", default=None),
        Field("iprange", default=None),
        Field("global_snippet", "bool", default=True),
        Field("history", "list", default=[]),
    ),
    name_field="name",
)
DNS_RESOURCES = RecordKind(
    "dnsresource", "DNSResourcesHandler", "DNSResourceHandler", "dnsresources/",
    "DNSResource",
    (
        Field("fqdn", required=True, unique=True),
        Field("address_ttl", "int"),
        Field("ip_addresses", "list", default=[]),
        Field("resource_records", "list", default=[]),
    ),
    admin_writes=False,
)
DNS_RESOURCE_RECORDS = RecordKind(
    "dnsdata", "DNSResourceRecordsHandler", "DNSResourceRecordHandler",
    "dnsresourcerecords/", "DNSData",
    (
        Field("fqdn", required=True),
        Field("ttl", "int"),
        Field("rrtype", "choice", required=True,
              choices=("A", "AAAA", "CNAME", "MX", "NS", "SRV", "SSHFP", "TXT")),
        Field("rrdata", required=True),
    ),
    admin_writes=False,
)
LICENSE_KEYS = RecordKind(
    "licensekey", "LicenseKeysHandler", "LicenseKeyHandler", "license-keys/", "LicenseKey",
    (
        Field("osystem", required=True),
        Field("distro_series", required=True),
        Field("license_key", required=True),
    ),
    keys=("osystem", "distro_series"),
    item_uri="license-key/{osystem}/{distro_series}",
)
COMMISSIONING_SCRIPTS = RecordKind(
    "commissioningscript", "CommissioningScriptsHandler", "CommissioningScriptHandler",
    "commissioning-scripts/", "Script",
    (Field("name", required=True, unique=True), Field("content", "file", required=True)),
    keys=("name",),
    item_uri="commissioning-scripts/{name}",
)
SCRIPTS = RecordKind(
    "script", "NodeScriptsHandler", "NodeScriptHandler", "scripts/", "Script",
    (
        Field("name", required=True, unique=True),
        Field("title", default=""),
        Field("description", default=""),
        Field("tags", "list", default=[]),
        Field("type", "choice", default="testing",
              choices=("commissioning", "testing", "deployment", "release")),
        Field("hardware_type", "choice", default="node",
              choices=("node", "cpu", "memory", "storage", "network", "gpu")),
        Field("parallel", "choice", default="disabled",
              choices=("disabled", "instance", "any")),
        Field("timeout", default="00:00:00"),
        Field("destructive", "bool", default=False),
        Field("for_hardware", "list", default=[]),
        Field("may_reboot", "bool", default=False),
        Field("recommission", "bool", default=False),
        Field("apply_configured_networking", "bool", default=False),
        Field("script", "file", required=True),
        Field("comment", default=""),
        Field("default", "bool", default=False),
    ),
    keys=("name",),
    item_uri="scripts/{name}",
    tag_field="tags",
)
RESERVED_IPS = RecordKind(
    "reservedip", "ReservedIpsHandler", "ReservedIpHandler", "reservedips/", "ReservedIP",
    (
        Field("ip", required=True, unique=True),
        Field("mac_address", default=""),
        Field("comment", default=""),
        Field("subnet", "subnet"),
    ),
    check=_reserved_ip,
)
_NO_RESOURCES = {"cores": 0, "memory": 0, "local_storage": 0}


def _pod_extra(state: State, values: dict[str, Any]) -> dict[str, Any]:
    # VmHostHandler's computed fields (maasserver/api/pods.py): the simulated host has
    # no hardware of its own, so totals are zero; zone and pool render as objects.
    zone = state.zone_named(values["zone"]) or state.zones[state.default_zone_id]
    pool = state.pool_named(values["pool"]) or state.pools[state.default_pool_id]
    return {
        "total": dict(_NO_RESOURCES), "used": dict(_NO_RESOURCES),
        "available": dict(_NO_RESOURCES),
        "capabilities": ["composable", "dynamic_local_storage", "over_commit",
                         "storage_pools"],
        "zone": render.zone(state, zone), "pool": render.pool(state, pool),
        "host": None, "version": "",
    }


_POD_FIELDS = (
    Field("type", "choice", required=True, choices=("lxd", "virsh")),
    Field("power_address", required=True),
    Field("power_user", default=""),
    Field("power_pass", default=""),
    Field("name", default="", unique=True),
    Field("zone", default="default"),
    Field("pool", default="default"),
    Field("tags", "list", default=[]),
    Field("cpu_over_commit_ratio", "float", default=1.0),
    Field("memory_over_commit_ratio", "float", default=1.0),
    Field("default_storage_pool", default=None),
    Field("default_macvlan_mode", default=""),
    Field("architectures", "list", default=[]),
    Field("storage_pools", "list", default=[]),
)
PODS = RecordKind("pod", "PodsHandler", "PodHandler", "pods/", "Pod", _POD_FIELDS,
                  tag_field="tags", computed=_pod_extra)
VM_HOSTS = RecordKind("pod", "VmHostsHandler", "VmHostHandler", "vm-hosts/", "Pod",
                      _POD_FIELDS, tag_field="tags", computed=_pod_extra)
VM_CLUSTERS = RecordKind(
    "vmcluster", "VmClustersHandler", "VmClusterHandler", "vm-clusters/", "VMCluster",
    (Field("name", required=True), Field("project", default=""),
     Field("zone", default="default"), Field("pool", default="default")),
    creatable=False,
    item_uri="vm-clusters/{id}",
)
_NODE = ("system_id",)
BCACHES = RecordKind(
    "bcache", "BcachesHandler", "BcacheHandler", "nodes/{system_id}/bcaches/", "Bcache",
    (
        Field("name", default=""),
        Field("uuid", default=""),
        Field("cache_set", required=True),
        Field("backing_device", default=None),
        Field("backing_partition", default=None),
        Field("cache_mode", "choice", default="writethrough",
              choices=("writeback", "writethrough", "writearound")),
    ),
    admin_writes=False, scope=_NODE, item_uri="nodes/{system_id}/bcache/{id}/",
)
BCACHE_CACHE_SETS = RecordKind(
    "bcachecacheset", "BcacheCacheSetsHandler", "BcacheCacheSetHandler",
    "nodes/{system_id}/bcache-cache-sets/", "CacheSet",
    (Field("cache_device", default=None), Field("cache_partition", default=None)),
    admin_writes=False, scope=_NODE, item_uri="nodes/{system_id}/bcache-cache-set/{id}/",
)
VMFS_DATASTORES = RecordKind(
    "vmfsdatastore", "VmfsDatastoresHandler", "VmfsDatastoreHandler",
    "nodes/{system_id}/vmfs-datastores/", "VMFS",
    (Field("name", required=True), Field("uuid", default=""),
     Field("block_devices", "list", default=[]), Field("partitions", "list", default=[])),
    admin_writes=False, scope=_NODE, item_uri="nodes/{system_id}/vmfs-datastore/{id}/",
)
KINDS = (STATIC_ROUTES, PACKAGE_REPOSITORIES, SSL_KEYS, NOTIFICATIONS, DHCP_SNIPPETS,
         DNS_RESOURCES, DNS_RESOURCE_RECORDS, LICENSE_KEYS, COMMISSIONING_SCRIPTS, SCRIPTS,
         RESERVED_IPS, PODS, VM_HOSTS, VM_CLUSTERS, BCACHES, BCACHE_CACHE_SETS,
         VMFS_DATASTORES)



SCOPE = "_scope"  # Key of a record's scope (path parameters) in its values; never rendered.


def add(state: State, kind: RecordKind, owner: str, scope: dict[str, str] | None = None,
        **given: Any) -> Record:
    """Store a new record, filling in defaults.

    Args:
        state: The region.
        kind: Its kind.
        owner: Username of the creator.
        scope: The collection's path parameters (``kind.scope``), e.g. the node.
        **given: Field values.

    Returns:
        The record.
    """
    values = {spec.name: copy.deepcopy(given.get(spec.name, spec.default)) for spec in kind.fields}
    values[SCOPE] = dict(scope or {})
    record = Record(state.next_id(kind.key), owner, values)
    state.records.setdefault(kind.key, {})[record.id] = record
    return record


def read_fields(
    state: State, params: Params, kind: RecordKind, current: Record | None
) -> dict[str, Any]:
    """Validate request parameters into a record's values.

    Args:
        state: The region.
        params: Request parameters.
        kind: The kind.
        current: The record being updated, None when creating.

    Returns:
        The complete values.

    Raises:
        ValidationFailed: A field is missing or invalid.
    """
    form = Form(params)
    values: dict[str, Any] = {SCOPE: current.values.get(SCOPE, {})} if current else {}
    for spec in kind.fields:
        if not params.has(spec.name):
            if current is not None:
                values[spec.name] = current.values[spec.name]
            elif spec.required:
                form.error(spec.name, REQUIRED)
            else:
                values[spec.name] = copy.deepcopy(spec.default)
            continue
        values[spec.name] = _READERS[spec.kind](state, form, spec)
        taken = spec.unique and values[spec.name] not in (None, "") and any(
            r.values[spec.name] == values[spec.name] and r is not current
            for r in state.records.get(kind.key, {}).values()
        )
        if taken:
            form.error(spec.name, f"{kind.model} with this {spec.name.title()} already exists.")
    form.validate()
    problems = kind.check(state, values)
    if problems:
        raise ValidationFailed(problems)
    return values


def render_record(state: State, kind: RecordKind, record: Record) -> dict[str, Any]:
    """Render a record with MAAS's field names.

    Args:
        state: The region.
        kind: Its kind.
        record: The record.

    Returns:
        The JSON object.
    """
    rendered: dict[str, Any] = {"id": record.id}
    for spec in kind.fields:
        value = record.values[spec.name]
        if spec.kind == "subnet" and value in state.subnets:
            value = render.subnet(state, state.subnets[value])
        elif spec.kind == "user" and value in state.users:
            value = render.user(state, state.users[value])
        rendered[spec.name] = value
    if kind.computed is not None:
        rendered.update(kind.computed(state, record.values))
    scope = record.values.get(SCOPE, {})
    if kind.scope:
        rendered.update(scope)
    template = kind.item_uri or kind.uri + "{id}/"
    fields = {spec.name: record.values[spec.name] for spec in kind.fields}
    rendered["resource_uri"] = state.api_prefix + template.format(
        **{**fields, **scope, "id": record.id})
    return rendered


def _read_text(state: State, form: Form, spec: Field) -> Any:
    return form.string(spec.name, required=spec.required)


def _read_bool(state: State, form: Form, spec: Field) -> Any:
    return form.boolean(spec.name, default=bool(spec.default))


def _read_int(state: State, form: Form, spec: Field) -> Any:
    return form.integer(spec.name, default=spec.default, min_value=0)


def _read_float(state: State, form: Form, spec: Field) -> Any:
    raw = form.string(spec.name, required=spec.required)
    try:
        return float(raw) if raw not in (None, "") else spec.default
    except ValueError:
        form.error(spec.name, "Enter a number.")
        return spec.default


def _read_file(state: State, form: Form, spec: Field) -> Any:
    # Script bodies arrive as a file part (the CLI's name@=path) or as text; MAAS
    # stores the bytes and renders them base64-encoded.
    content = form.params.file(spec.name)
    if content is None:
        text = form.string(spec.name, required=spec.required)
        content = (text or "").encode()
    return base64.b64encode(content).decode("ascii")


def _read_list(state: State, form: Form, spec: Field) -> Any:
    return [p for v in form.params.get_list(spec.name) for p in v.replace(",", " ").split()]


def _read_json(state: State, form: Form, spec: Field) -> Any:
    try:
        value = json.loads(form.string(spec.name) or "{}")
    except ValueError:
        value = None
    if not isinstance(value, dict):
        form.error(spec.name, "Enter a JSON object.")
        return {}
    return value


def _read_choice(state: State, form: Form, spec: Field) -> Any:
    return form.choice(spec.name, spec.choices, default=spec.default)


def _read_subnet(state: State, form: Form, spec: Field) -> Any:
    raw = form.string(spec.name, required=spec.required) or ""
    found = next((s for s in state.subnets.values() if raw in (str(s.id), s.cidr)), None)
    if found is None:
        form.error(spec.name, invalid_choice(raw))
        return None
    return found.id


def _read_user(state: State, form: Form, spec: Field) -> Any:
    raw = form.string(spec.name)
    if raw and raw not in state.users:
        form.error(spec.name, invalid_choice(raw))
        return None
    return raw or None


_READERS: dict[FieldKind, Callable[[State, Form, Field], Any]] = {
    "text": _read_text,
    "bool": _read_bool,
    "int": _read_int,
    "float": _read_float,
    "file": _read_file,
    "list": _read_list,
    "json": _read_json,
    "choice": _read_choice,
    "subnet": _read_subnet,
    "user": _read_user,
}
