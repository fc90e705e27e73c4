"""The list of modelled actions, and ``MODELLED.md`` generated from it.

Regenerate the document after changing what the simulator models::

    python -m maas_dyn.sim.maas.modelled > maas_dyn/sim/maas/MODELLED.md
"""

from __future__ import annotations

import sys

from maas_dyn.sim.maas.describe import Description
from maas_dyn.sim.maas.dispatch import is_generic_read
from maas_dyn.sim.maas.handlers import REGISTRY

REFERENCE_RELEASE = "3.7"

# Modelled actions per shipped release when issue 25 began (commit b3317e0), kept so
# the document shows how coverage moved: release -> (distinct actions, modelled).
BASELINE: dict[str, tuple[int, int]] = {
    "1.9": (214, 108), "2.0": (235, 154), "2.1": (293, 209), "2.2": (310, 216),
    "3.0": (367, 234), "3.1": (372, 234), "3.2": (367, 234), "3.3": (367, 234),
    "3.4": (367, 234), "3.5": (367, 234), "3.6": (372, 234), "3.7": (372, 234),
}

# What each wire-level behaviour follows in the real region's source (canonical/maas,
# django/django). Facts were read there; no code was copied.
SOURCES = (
    ("Request bodies: base64 parts decoded, parts without Content-Disposition or name "
     "skipped, filename => file, request charset for fields (maas_dyn/maas/formdata.py, "
     "shared with the client's decode_fields)",
     "django/http/multipartparser.py (MultiPartParser.parse, parse_boundary_stream); "
     "django/http/request.py (HttpRequest encoding)"),
    ("Hostnames: no `_` in the host label, labels of letters, digits and inner hyphens, "
     "at most 63/255 characters, MAAS's messages",
     "src/maascommon/utils/dns.py (validate_hostname, validate_domain_name), "
     "src/maasserver/models/node.py (hostname validators)"),
    ("`deploy` options read with get_optional_param: `Invalid <key>: <formencode message>`",
     "src/maasserver/api/machines.py (MachineHandler.deploy), src/maasserver/api/utils.py "
     "(_validate_param)"),
    ("Machine create: `amd64` becomes `amd64/generic`, architecture with `/` plus "
     "subarchitecture is refused",
     "src/maasserver/api/machines.py (fix_architecture)"),
    ("`op=details`: BSON `{lshw, lldp}`, binary or null, `application/bson`",
     "src/maasserver/api/nodes.py (NodeHandler.details), "
     "src/maasserver/models/nodeprobeddetails.py"),
    ("`get_curtin_config`: 400 outside deployment states, YAML `text/plain`",
     "src/maasserver/api/machines.py (MachineHandler.get_curtin_config)"),
    ("Networks: subnets rendered as `subnet-<id>`; writes answer 410 (rc.NOT_HERE)",
     "src/maasserver/api/networks.py"),
    ("Controllers: every field of DISPLAYED_RACK_CONTROLLER_FIELDS",
     "src/maasserver/api/rackcontrollers.py, src/maasserver/api/regioncontrollers.py"),
    ("Simple resources as rows (records.py): DHCP snippets, DNS resources and records, "
     "license keys, scripts, reserved IPs, VM hosts/pods, VM clusters, bcaches, VMFS",
     "src/maasserver/forms/ (dhcpsnippet.py, dnsresource.py, dnsresourcerecord.py, "
     "license_key.py, script.py, reservedip.py, pods.py, vmcluster.py, bcache.py, vmfs.py) "
     "and the matching src/maasserver/api/ modules"),
    ("`openapi.yaml` next to `describe/`: anonymous GET, `application/openapi+yaml`, the "
     "release's v2 OpenAPI document (shipped for 3.7 only, as JSON text, which is YAML), "
     "404 where none ships (before 3.3 a region has none)",
     "src/maasserver/urls_api.py (openapi_endpoint), src/maasserver/api/doc_oapi.py "
     "(endpoint, get_api_endpoint)"),
)


def release_counts(release: str) -> tuple[int, int, int]:
    """Count a shipped release's distinct actions, the modelled ones and the generic reads.

    Args:
        release: A shipped MAAS release.

    Returns:
        ``(distinct handler actions, modelled, unmodelled collection reads that answer
        an empty list)``; the rest answer 501.
    """
    modelled = set(modelled_actions())
    seen: set[tuple[str, str]] = set()
    generic: set[tuple[str, str]] = set()
    for ref in Description.shipped(release).handlers():
        for action in ref.handler["actions"]:
            key = (ref.handler["name"], action["name"])
            seen.add(key)
            if is_generic_read(ref.handler, action):
                generic.add(key)
    return len(seen), len(seen & modelled), len(generic - modelled)


def modelled_actions() -> list[tuple[str, str]]:
    """List every modelled (handler name, action name) pair.

    Returns:
        Sorted pairs; any other action of a description answers HTTP 501.
    """
    return [(spec.handler, spec.action) for spec in REGISTRY.modelled()]


def render_markdown(release: str = REFERENCE_RELEASE) -> str:
    """Render the coverage of one release's description as a Markdown document.

    Args:
        release: A shipped MAAS release.

    Returns:
        The document.
    """
    description = Description.shipped(release)
    modelled = set(modelled_actions())
    rows = []
    seen: set[tuple[str, str]] = set()
    for ref in sorted(description.handlers(), key=lambda r: (r.handler["name"], r.side)):
        name = ref.handler["name"]
        for action in sorted(ref.handler["actions"], key=lambda a: a["name"]):
            key = (name, action["name"])
            if key in seen:
                continue
            seen.add(key)
            op = f"`{action['op']}`" if action["op"] else "(RESTful)"
            answer = ("modelled" if key in modelled
                      else "`[]` (generic read)" if is_generic_read(ref.handler, action)
                      else "501")
            rows.append(f"| {name} | {action['name']} | {action['method']} | {op} | {answer} |")
    count = sum(1 for key in seen if key in modelled)
    admin = sorted(f"{s.handler}.{s.action}" for s in REGISTRY.modelled() if s.admin)
    per_release = []
    for name, (_total_before, before) in BASELINE.items():
        total, now, generic = release_counts(name)
        per_release.append(
            f"| {name} | {total} | {before} | {now} | {generic} | {total - now - generic} |")
    lines = [
        "# Actions modelled by the MAAS simulator",
        "",
        "Generated from `maas_dyn.sim.maas.modelled.modelled_actions()`; do not edit by hand.",
        "Regenerate with:",
        "",
        "```",
        "python -m maas_dyn.sim.maas.modelled > maas_dyn/sim/maas/MODELLED.md",
        "```",
        "",
        f"Reference description: MAAS {release} ({len(seen)} distinct handler actions, "
        f"{count} modelled). Actions marked 501 answer HTTP 501 with a JSON body "
        '`{"handler", "action", "op", "message"}`; the simulator never fakes success. '
        "An unmodelled collection `read` answers `[]` (a region with none of that kind), "
        "which is how a description the package has never seen (`--description`) still "
        "lists every collection.",
        "Handler names are matched by name, so older descriptions reuse these "
        "implementations where their handlers have the same names.",
        "",
        "## Coverage per shipped release",
        "",
        "| release | distinct actions | modelled before issue 25 | modelled "
        "| generic `[]` reads | answer 501 |",
        "|---|---|---|---|---|---|",
        *per_release,
        "",
        "## What the behaviours follow",
        "",
        "| behaviour | real source |",
        "|---|---|",
        *(f"| {what} | {where} |" for what, where in SOURCES),
        "",
        "## Actions",
        "",
        "| handler | action | method | op | answer |",
        "|---|---|---|---|---|",
        *rows,
        "",
        f"Admin-only modelled actions ({len(admin)}): " + ", ".join(admin) + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    """Print ``MODELLED.md`` to standard output.

    Returns:
        The exit status.
    """
    sys.stdout.write(render_markdown())
    return 0


if __name__ == "__main__":  # pragma: no cover - module entry point
    raise SystemExit(main())
