"""Tests of maas_dyn/maas/describe.py and naming.py over every real fixture."""

from __future__ import annotations

import copy
import inspect
from pathlib import Path
from typing import Any

import pytest

from maas_dyn._shipped import load_shipped, shipped_releases
from maas_dyn.errors import DescriptionError
from maas_dyn.maas import Client, Description, compute_hash
from maas_dyn.maas.naming import action_cli_name, handler_cli_name, unique_action_name
from tests.conftest import load_json, maas_fixture_files

FIXTURES = maas_fixture_files()


def test_fixtures_are_present() -> None:
    # 1.9, 2.0, 2.1, 2.2 (raw + pretty), 3.0 (real + generated), 3.1 .. 3.7
    assert len(FIXTURES) == 16


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_action_of_every_handler_is_reachable(path: Path) -> None:
    document = load_json(path)
    client = Client.from_description(document)
    actions_in_document = 0
    for resource in document["resources"]:
        spec = client.description.handler(resource["name"])
        assert spec is not None, resource["name"]
        handler = client[resource["name"]]
        assert getattr(client, spec.name) is handler
        shadowing = {a["name"] for a in (resource.get("auth") or {}).get("actions", [])}
        for side in ("auth", "anon"):
            for action in (resource.get(side) or {}).get("actions", []):
                if side == "anon" and action["name"] in shadowing:
                    continue  # a signed call reaches the auth handler's action of that name
                actions_in_document += 1
                matches = [a for a in spec.actions.values()
                           if a.wire_name == action["name"] and a.method == action["method"]
                           and a.op == action["op"]]
                assert matches, (resource["name"], action["name"])
                method = getattr(handler, matches[0].name)
                doc = inspect.getdoc(method)
                assert doc
                for name in spec.params:
                    assert name in inspect.signature(method).parameters
                for param in _documented(action["doc"]):
                    if "{" not in param and param not in spec.params:
                        assert f"``{param}``" in doc or f"{param.replace('-', '_')} (" in doc
    assert actions_in_document > 200


def _documented(doc: str) -> list[str]:
    from maas_dyn.maas.docparse import parse_action_doc

    return [p.name for p in parse_action_doc(doc).params.values() if p.text or p.type_text]


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_hash_matches_the_documents_own(path: Path) -> None:
    document = load_json(path)
    if "handlers" not in document:
        pytest.skip("derived file without 'handlers': its hash was computed with them")
    assert compute_hash(document) == document["hash"]


@pytest.mark.parametrize("release", shipped_releases("maas"))
def test_shipped_releases_load_and_hash(release: str) -> None:
    document = load_shipped("maas", release)
    assert compute_hash(document) == document["hash"]
    assert Client.from_release(release).description.hash == document["hash"]


@pytest.mark.parametrize(
    ("resource", "cli"),
    [
        ("MachinesHandler", "machines"),
        ("BootResourcesHandler", "boot-resources"),
        ("VmHostsHandler", "vm-hosts"),
        ("SSHKeysHandler", "sshkeys"),
        ("IPAddressesHandler", "ipaddresses"),
        ("DNSResourceRecordsHandler", "dnsresource-records"),
        ("NodeScriptResultHandler", "node-script-result"),
        ("MaasHandler", "maas"),
    ],
)
def test_handler_cli_names_follow_the_official_cli(resource: str, cli: str) -> None:
    assert handler_cli_name(resource) == cli


def test_python_names_of_3_7() -> None:
    client = Client.from_release("3.7")
    assert client.boot_resources is client["boot-resources"]
    assert client.dnsresource_records is client["DNSResourceRecordsHandler"]
    assert "whoami" in client.description.handlers["users"].actions
    assert action_cli_name("power_parameters") == "power-parameters"
    assert client.description.handlers["sshkeys"].actions["import_"].cli_name == "import"
    assert client.description.handlers["sshkeys"].action("import") is not None


def test_anon_only_actions_are_kept_and_unsigned() -> None:
    spec = Client.from_release("3.7").description.handlers["machines"]
    assert spec.actions["is_action_in_progress"].unsigned
    assert not spec.actions["allocate"].unsigned
    version = Client.from_release("3.7").description.handlers["version"]
    assert not version.actions["read"].unsigned  # anon-only resource: one handler to route to


def test_duplicate_action_names_of_old_releases_are_all_reachable() -> None:
    spec = Client.from_release("2.0").description.handlers["machines"]
    assert spec.actions["create"].restful
    assert spec.actions["create_op"].op == "create"
    ssl = Client.from_release("1.9").description.handlers["sslkey"]
    assert {(a.method, a.op) for a in ssl.actions.values()} >= {("DELETE", None), ("GET", "delete")}


def test_unique_action_name_suffixes() -> None:
    taken: set[str] = set()
    methods = ("DELETE", "POST", "GET", "PUT", "PUT")
    assert [unique_action_name("delete", m, taken) for m in methods] == [
        "delete", "delete_op", "delete_get", "delete_put", "delete_2"]


def test_handler_named_like_a_client_attribute_gets_a_suffix() -> None:
    document = {"resources": [{"name": "RefreshHandler", "anon": None, "auth": {
        "name": "RefreshHandler", "path": "/MAAS/api/2.0/refresh/", "params": [], "doc": "",
        "actions": [{"name": "read", "method": "GET", "op": None, "restful": True,
                     "doc": "Read"}]}}]}
    client = Client.from_description(document)
    assert callable(client.refresh)
    assert client.refresh_.read.__name__ == "read"


def test_documents_with_only_handlers_are_accepted() -> None:
    document = load_shipped("maas", "3.7")
    only_handlers = {"doc": "MAAS API", "hash": document["hash"], "handlers": document["handlers"]}
    assert "machines" in Description(only_handlers).handlers


def _broken(mutate: Any) -> Any:
    document = copy.deepcopy(load_shipped("maas", "3.7"))
    mutate(document)
    return document


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("resources") and d.pop("handlers"), "no 'resources' list"),
        (lambda d: d["resources"].append("x"), r"resources\[98\]: must be an object"),
        (lambda d: d["resources"][0].update(auth=None, anon=None), "neither auth nor anon"),
        (lambda d: d["resources"][0]["auth"].update(path=None), "'path' must be text"),
        (lambda d: d["resources"][0]["auth"].update(params="x"), "'params' must be a list"),
        (lambda d: d["resources"][0]["auth"].update(actions={}), "'actions' must be a list"),
        (lambda d: d["resources"][0]["auth"]["actions"][0].update(method="PATCH"), "'method'"),
        (lambda d: d["resources"][0]["auth"]["actions"][0].update(op=5), "'op' must be"),
        (lambda d: d["resources"][0]["auth"]["actions"][0].update(doc=[]), "'doc' must be"),
        (lambda d: d["resources"][0]["auth"]["actions"][0].update(name=""), "'name' must be"),
        (lambda d: d["resources"][0]["auth"]["actions"].append(3), "must be an object"),
        (lambda d: d["resources"][1].update(name=None), "'name' must be text"),
        (lambda d: d["resources"][1].update(auth=[]), "must be an object or null"),
    ],
)
def test_malformed_documents_raise_description_error(mutate: Any, message: str) -> None:
    with pytest.raises(DescriptionError, match=message):
        Description(_broken(mutate))


def test_many_problems_are_summarised() -> None:
    def wreck(d: Any) -> None:
        for resource in d["resources"][:8]:
            resource["auth"] = {"path": 1, "actions": []} if resource["auth"] else None

    with pytest.raises(DescriptionError, match=r"and \d+ more"):
        Description(_broken(wreck))


@pytest.mark.parametrize("document", [[], "text", 5, None])
def test_non_object_documents(document: Any) -> None:
    with pytest.raises(DescriptionError):
        Description(document)


def test_repr_and_lookup() -> None:
    description = Client.from_release("3.7").description
    assert repr(description).startswith("<Description hash=36763f1444f0 handlers=98>")
    assert description.handler("nope") is None
    assert description.handlers["machine"].action("nope") is None
    assert description.handlers["machine"].action("power-parameters").name == "power_parameters"


# -- both sides' parameters, and actions that take the body raw ----------------------------


def _with_upload_handler(document: dict[str, Any]) -> dict[str, Any]:
    # MAAS 3.8's BootResourceFileUploadHandler, as its describe document renders it.
    upload = {
        "name": "BootResourceFileUploadHandler", "doc": "Upload a boot resource file.",
        "params": ["resource_id", "id"],
        "path": "/MAAS/api/2.0/boot-resources/{resource_id}/upload/{id}/",
        "actions": [{"name": "update", "method": "PUT", "op": None, "restful": True,
                     "doc": "Upload chunk of boot resource file.\n\nUploads a chunk of boot "
                            "resource file\n\n:param {resource_id}: The boot resource id.\n"
                            ":type {resource_id}: Int\n\n:param {id}: The boot resource file "
                            "id.\n:type {id}: Int\n"}]}
    return {**document, "resources": [*document["resources"], {
        "name": "BootResourceFileUploadHandler", "auth": upload, "anon": None}]}


def test_an_upload_chunk_action_takes_its_body_raw() -> None:
    from maas_dyn._shipped import load_shipped

    description = Description(_with_upload_handler(load_shipped("maas", "3.7")))
    action = description.handler("boot-resource-file-upload").action("update")
    assert action is not None and action.raw_body
    others = [(h.cli_name, a.cli_name) for h in description.handlers.values()
              for a in h.actions.values() if a.raw_body]
    assert others == [("boot-resource-file-upload", "update")]


@pytest.mark.parametrize(("release", "handler", "action", "anonymous_only"), [
    ("1.9", "nodes", "new", "boot_type"),
    ("2.1", "machines", "create", "power_parameters_{param}"),
    ("2.2", "machines", "create", "power_parameters_{param}"),
])
def test_parameters_only_the_anonymous_side_documents_are_documented(
        release: str, handler: str, action: str, anonymous_only: str) -> None:
    from maas_dyn._shipped import load_shipped
    from maas_dyn.maas.docparse import parse_action_doc

    found = Description(load_shipped("maas", release)).handler(handler)
    assert found is not None
    spec = found.action(action)
    assert spec is not None and anonymous_only in parse_action_doc(spec.doc).params
    assert "architecture" in parse_action_doc(spec.doc).params  # the auth side's stay


def test_repeatable_parameters_are_annotated_as_lists_too() -> None:
    signature = inspect.signature(
        Client.from_release("3.7", url="http://127.0.0.1/MAAS/").machines.read)
    assert str(signature.parameters["hostname"].annotation) == "str | list[str] | None"
    assert str(signature.parameters["cpu_count"].annotation) == "int | None"  # a minimum
