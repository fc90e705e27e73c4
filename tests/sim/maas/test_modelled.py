"""MODELLED.md is generated from the registry and kept up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from maas_dyn.sim.maas import modelled
from maas_dyn.sim.maas.registry import Registry

DOCUMENT = Path(modelled.__file__).with_name("MODELLED.md")


def test_modelled_md_is_current() -> None:
    assert DOCUMENT.read_text() == modelled.render_markdown(), (
        "regenerate: python -m maas_dyn.sim.maas.modelled > maas_dyn/sim/maas/MODELLED.md"
    )


def test_markdown_counts_and_main(capsys: pytest.CaptureFixture[str]) -> None:
    text = modelled.render_markdown("2.2")
    assert "| MachineHandler | deploy | POST | `deploy` | modelled |" in text
    assert modelled.main() == 0
    assert capsys.readouterr().out == modelled.render_markdown()
    pairs = modelled.modelled_actions()
    assert pairs == sorted(pairs)
    assert ("MachinesHandler", "allocate") in pairs


def test_registry_refuses_duplicates() -> None:
    registry = Registry()
    registry.register("H", "a")(lambda context: None)
    with pytest.raises(ValueError, match="twice"):
        registry.register(("H",), "a")(lambda context: None)
    assert registry.lookup("H", "b") is None
