"""Users, the caller's API tokens and SSH keys."""

from __future__ import annotations

import dataclasses
from typing import Any

from maas_dyn.sim.maas import render
from maas_dyn.sim.maas.handlers._common import lookup
from maas_dyn.sim.maas.models import SSHKey, User
from maas_dyn.sim.maas.registry import Context, action
from maas_dyn.sim.maas.responses import BadRequest, NotFound, Response, ValidationFailed
from maas_dyn.sim.maas.status import OWNED
from maas_dyn.sim.maas.validation import mandatory

_KEY_PREFIXES = ("ssh-", "ecdsa-", "sk-")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@action("UsersHandler", "read")
def read_users(context: Context) -> list[dict[str, Any]]:
    """List users."""
    return [render.user(context.state, u) for u in context.state.users.values()]


@action("UsersHandler", "whoami")
def whoami(context: Context) -> dict[str, Any]:
    """Return the caller."""
    assert context.user is not None  # the handler is only reachable authenticated
    return render.user(context.state, context.user)


@action("UsersHandler", "create", admin=True)
def create_user(context: Context) -> dict[str, Any]:
    """Create a user (the parameters are mandatory, as in MAAS)."""
    state = context.state
    params = context.params
    username = mandatory(params, "username")
    email = mandatory(params, "email")
    mandatory(params, "password")
    flag = mandatory(params, "is_superuser").strip().lower()
    if flag not in _TRUE + _FALSE:
        raise BadRequest(f"Invalid is_superuser: '{flag}' is not a valid boolean.")
    if username in state.users:
        raise ValidationFailed({"username": ["A user with that username already exists."]})
    user = state.add_user(username, email=email, admin=flag in _TRUE)
    return render.user(state, user)


@action("UserHandler", "read")
def read_user(context: Context) -> dict[str, Any]:
    """Return a user."""
    return render.user(context.state, _user(context, context.arg("username")))


@action("UserHandler", "delete", admin=True)
def delete_user(context: Context) -> None:
    """Delete a user, optionally handing their machines to another user."""
    state = context.state
    username = context.arg("username")
    if username == context.username:
        raise BadRequest("An administrator cannot self-delete.")
    user = state.users.get(username)
    if user is None:
        return
    heir = context.params.get("transfer_resources_to")
    if heir:
        _user(context, heir)
    owned = [m for m in state.machines.values() if m.owner == username and m.status in OWNED]
    if owned and not heir:
        raise BadRequest(
            f"User {username} cannot be deleted: {len(owned)} node(s) and 0 IP address(es) "
            "are still allocated."
        )
    for node in state.nodes():
        if node.owner == username:
            node.owner = heir or None
            state.touch(node)
    for key in [k for k, token in state.tokens.items() if token.username == username]:
        del state.tokens[key]
    for key_id in [k for k, key in state.sshkeys.items() if key.username == username]:
        del state.sshkeys[key_id]
    del state.users[username]


@action("AccountHandler", "create_authorisation_token")
def create_token(context: Context) -> dict[str, str]:
    """Create an API key for the caller."""
    name = context.params.get("name") or "MAAS consumer"
    token = context.state.add_token(context.username, name)
    return {
        "token_key": token.token_key,
        "token_secret": token.token_secret,
        "consumer_key": token.consumer_key,
        "name": token.name,
    }


@action("AccountHandler", "list_authorisation_tokens")
def list_tokens(context: Context) -> list[dict[str, str]]:
    """List the caller's API keys."""
    return [
        {"name": token.name, "token": token.api_key}
        for token in context.state.tokens.values()
        if token.username == context.username
    ]


@action("AccountHandler", "delete_authorisation_token")
def delete_token(context: Context) -> None:
    """Delete one of the caller's API keys."""
    key = mandatory(context.params, "token_key")
    token = context.state.tokens.get(key)
    if token is not None and token.username == context.username:
        del context.state.tokens[key]


@action("AccountHandler", "update_token_name")
def update_token_name(context: Context) -> Response:
    """Rename one of the caller's API keys (``token`` may be the key or the full API key)."""
    raw = mandatory(context.params, "token")
    name = mandatory(context.params, "name")
    key = raw.split(":")[1] if raw.count(":") == 2 else raw
    token = context.state.tokens.get(key)
    if token is None or token.username != context.username:
        raise NotFound("Token")
    context.state.tokens[key] = dataclasses.replace(token, name=name)
    return Response.text("Accepted", 202)


@action("SSHKeysHandler", "read")
def read_sshkeys(context: Context) -> list[dict[str, Any]]:
    """List the caller's SSH keys."""
    return [
        render.sshkey(context.state, key)
        for key in context.state.sshkeys.values()
        if key.username == context.username
    ]


@action("SSHKeysHandler", "create")
def create_sshkey(context: Context) -> dict[str, Any]:
    """Add an SSH public key for the caller."""
    state = context.state
    text = (context.params.get("key") or "").strip()
    if not text:
        raise ValidationFailed({"key": ["This field is required."]})
    if not text.startswith(_KEY_PREFIXES) or len(text.split()) < 2:
        raise ValidationFailed({"key": ["Invalid SSH public key: " + text[:40]]})
    if any(k.key == text and k.username == context.username for k in state.sshkeys.values()):
        raise ValidationFailed({"__all__": ["This key has already been added for this user."]})
    key = SSHKey(state.next_id("sshkey"), context.username, text)
    state.sshkeys[key.id] = key
    return render.sshkey(state, key)


@action("SSHKeyHandler", "read")
def read_sshkey(context: Context) -> dict[str, Any]:
    """Return one of the caller's SSH keys."""
    return render.sshkey(context.state, _sshkey(context))


@action("SSHKeyHandler", "delete")
def delete_sshkey(context: Context) -> None:
    """Delete one of the caller's SSH keys."""
    del context.state.sshkeys[_sshkey(context).id]


def _user(context: Context, username: str) -> User:
    found = context.state.users.get(username)
    if found is None:
        raise NotFound("User")
    return found


def _sshkey(context: Context) -> SSHKey:
    key = lookup(context.state.sshkeys, context.arg("id"), "SSHKey")
    if key.username != context.username:
        raise NotFound("SSHKey")
    return key
