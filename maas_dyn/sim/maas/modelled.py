"""The list of modelled actions, and ``MODELLED.md`` generated from it.

Regenerate the document after changing what the simulator models::

    python -m maas_dyn.sim.maas.modelled > maas_dyn/sim/maas/MODELLED.md
"""

from __future__ import annotations

import sys

from maas_dyn.sim.maas.describe import Description
from maas_dyn.sim.maas.handlers import REGISTRY

REFERENCE_RELEASE = "3.7"


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
            answer = "modelled" if key in modelled else "501"
            rows.append(f"| {name} | {action['name']} | {action['method']} | {op} | {answer} |")
    count = sum(1 for key in seen if key in modelled)
    admin = sorted(f"{s.handler}.{s.action}" for s in REGISTRY.modelled() if s.admin)
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
        '`{"handler", "action", "op", "message"}`; the simulator never fakes success.',
        "Handler names are matched by name, so older descriptions reuse these "
        "implementations where their handlers have the same names.",
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
