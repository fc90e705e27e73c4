"""Completion and help as a user sees them: jedi, IPython, inspect, pydoc."""

from __future__ import annotations

import inspect
import pydoc

import pytest

from maas_dyn.maas import Client


@pytest.fixture(scope="module")
def client() -> Client:
    # An unreachable URL proves completion and help never touch the network.
    return Client.from_release("3.7", url="http://127.0.0.1:9/MAAS/")


def test_jedi_completes_handlers_actions_and_signatures(client: Client) -> None:
    jedi = pytest.importorskip("jedi")
    names = [c.name for c in jedi.Interpreter("client.mach", [{"client": client}]).complete()]
    assert names == ["machine", "machines"]
    names = [c.name for c in jedi.Interpreter("client.machine.de", [{"client": client}]).complete()]
    assert names == ["delete", "deploy", "details"]
    signatures = jedi.Interpreter("client.machine.deploy(", [{"client": client}]).get_signatures()
    assert "distro_series: str | None=None" in signatures[0].to_string()


def test_ipython_completer(client: Client) -> None:
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    completer = pytest.importorskip("IPython.core.completer")
    shell = interactiveshell.InteractiveShell.instance()
    shell.user_ns["client"] = client
    with completer.provisionalcompleter():
        handlers = [c.text for c in shell.Completer.completions("client.mach", 11)]
        actions = [c.text for c in shell.Completer.completions("client.machine.de", 17)]
    assert {"machine", "machines"} <= set(handlers)
    assert {"delete", "deploy", "details"} <= set(actions)


def test_signature_and_help(client: Client) -> None:
    signature = inspect.signature(client.machines.allocate)
    assert "tags" in signature.parameters and "zone" in signature.parameters
    text = pydoc.render_doc(client.machine.deploy, renderer=pydoc.plaintext)
    assert "deploy(system_id: str | int, *, user_data: str | None = None" in text
    assert "POST /MAAS/api/2.0/machines/{system_id}/?op=deploy" in text
    assert "distro_series (String, optional)" in text
    assert "MachineNotFoundError: HTTP 404" in text
    handler_help = pydoc.render_doc(client.machine, renderer=pydoc.plaintext)
    assert "class MachineHandler" in handler_help
    assert "Path: /MAAS/api/2.0/machines/{system_id}/" in handler_help


def test_maas_api_style_docs(client: Client) -> None:
    assert "username" in client.user.delete.__doc__
    assert "Actions:" in client.users.__doc__
    assert client.users.whoami.__doc__.startswith("Retrieve logged-in user")
