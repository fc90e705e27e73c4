"""Tests of maas_dyn/maas/docparse.py."""

from __future__ import annotations

import pytest

from maas_dyn.maas.docparse import parse_action_doc

DEPLOY = (
    "Deploy a machine\n\nDeploys an operating system.\n\n"
    ":param user_data: Optional.  If present, this blob of\nbase64-encoded user-data.\n"
    ":type user_data: String\n\n :param distro_series: Required.  The\nseries.\n"
    ":type distro_series: unicode\n:type distro_series: String\n\n "
    ":param-example distro_series: jammy\n"
)


def test_summary_body_params_and_types() -> None:
    doc = parse_action_doc(DEPLOY)
    assert doc.summary == "Deploy a machine"
    assert doc.body == "Deploys an operating system."
    assert doc.has_params
    assert list(doc.params) == ["user_data", "distro_series"]
    assert doc.params["user_data"].text == "Optional. If present, this blob of base64-encoded user-data."
    assert not doc.params["user_data"].required
    assert doc.params["distro_series"].required
    assert doc.params["distro_series"].type_text == "String"  # the last :type wins
    assert doc.params["distro_series"].example == "jammy"


def test_old_style_return_and_trailing_prose() -> None:
    doc = parse_action_doc(
        "Release multiple nodes.\n\nThis places them back.\n\n"
        ":param nodes: system_ids of the nodes.\n   (An empty list is acceptable).\n"
        ":return: The system_ids of any nodes\n    changed.\n\nReturns 400 if not found."
    )
    assert doc.params["nodes"].text == "system_ids of the nodes. (An empty list is acceptable)."
    assert doc.returns == "The system_ids of any nodes changed."
    assert doc.body == "This places them back.\n\n\nReturns 400 if not found.".replace("\n\n\n", "\n\n")


def test_empty_and_none_docs() -> None:
    assert parse_action_doc(None).summary == ""
    assert parse_action_doc("").params == {}
    assert not parse_action_doc("Read a thing\n\nJust prose: with a colon.").has_params


def test_non_field_directives_stay_prose() -> None:
    doc = parse_action_doc("Set config\n\nAvailable:\n\n:maas_name: The name.\n:rtype: dict")
    assert ":maas_name: The name." in doc.body
    assert doc.params == {}


@pytest.mark.parametrize(("text", "choices"), [
    ("Optional. Possible values are: ``standard``, ``ovs``.", ("standard", "ovs")),
    ("Optional. Cache mode: ``WRITEBACK``, ``WRITETHROUGH``, ``WRITEAROUND``.",
     ("WRITEBACK", "WRITETHROUGH", "WRITEAROUND")),
    ("Required. ``AUTO``, ``DHCP``, ``STATIC`` or ``LINK_UP`` connection to subnet.",
     ("AUTO", "DHCP", "STATIC", "LINK_UP")),
    ("Optional. Can be either ``combined``, ``stdout``, ``stderr``, or ``all``.",
     ("combined", "stdout", "stderr", "all")),
    ("Optional. (Default: ``tgz``. Supported: ``tgz``, ``tbz``)", ("tgz", "tbz")),
    ("Optional. The type (e.g ``cname``, ``mx``, ``ns``).", ()),
    ("Optional. (``virsh``, ``vmware`` only.) Filter machines.", ()),
    ("Optional. Just ``one`` literal.", ()),
])
def test_choices_listed_in_prose(text: str, choices: tuple[str, ...]) -> None:
    from maas_dyn.maas.docparse import DocParam

    assert DocParam("p", text).choices == choices
