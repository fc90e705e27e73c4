"""``auth.*`` and ``api_key.*``: logins, tokens and API keys.

``auth.login_ex`` follows the middleware's ``AuthService.login_ex``: PASSWORD_PLAIN,
API_KEY_PLAIN and TOKEN_PLAIN mechanisms, and SCRAM (SHA-512, RFC 5802, for API keys;
channel binding ``tls-server-end-point`` over TLS) where the description offers it
(26.0+). Mechanisms outside the runtime's ``auth_mechanisms`` (what the authenticator
level allows; ``--auth-mechanisms``) are a CallError (EOPNOTSUPP), and
``auth.mechanism_choices`` lists exactly those. A password login of a user with two-factor
authentication answers OTP_REQUIRED and expects OTP_TOKEN next (three wrong codes end the
attempt with AUTH_ERR); an OTP_TOKEN without a pending login is a CallError (EINVAL); any
other mechanism abandons a pending login. Failures answer AUTH_ERR after a one-second
(simulated) delay, never saying whether the user exists.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from maas_dyn._scram import (
    CB_TLS_SERVER_END_POINT,
    NONCE_BYTES,
    ScramKeys,
    ScramSyntaxError,
    auth_message,
    b64,
    derive_keys,
    parse_attributes,
    recover_client_key,
    server_signature,
    unb64,
)
from maas_dyn.sim.truenas import totp
from maas_dyn.sim.truenas.auth import Credentials
from maas_dyn.sim.truenas.exceptions import CallError, ValidationErrors
from maas_dyn.sim.truenas.filters import filter_list
from maas_dyn.sim.truenas.registry import Call, MethodTable
from maas_dyn.sim.truenas.schema import conform
from maas_dyn.sim.truenas.services.accounts import find_user, user_object
from maas_dyn.sim.truenas.services.crud import Resource
from maas_dyn.sim.truenas.session import PendingLogin, PendingScram, Session
from maas_dyn.sim.truenas.state import State

__all__ = ["api_key_owner", "api_key_scram_keys", "api_key_string", "methods",
           "new_api_key", "offered_mechanisms"]

methods = MethodTable()
api_keys = Resource("api_key", "API Key")
api_keys.register(methods, "api_key")

_MAX_OTP_ATTEMPTS = 3
_FAIL_DELAY = 1.0
_AUTHENTICATOR = "LEVEL_1"
# auth.mechanism_choices at authenticator level 1, in the middleware's order
# (utils/auth.py AA_LEVEL1); SCRAM where the description knows the mechanism (26.0+).
_MECHANISMS = ["API_KEY_PLAIN", "TOKEN_PLAIN", "PASSWORD_PLAIN", "SCRAM"]
_SALT_BYTES = 16  # utils/crypto.py generate_api_key_auth_data

Response = dict[str, Any]


def _failed(call: Call) -> Response:
    # The middleware delays every failure so that timing reveals nothing.
    call.rt.clock.sleep(_FAIL_DELAY)
    return {"response_type": "AUTH_ERR"}


def _me(state: State, credentials: Credentials) -> dict[str, Any]:
    username = credentials.root.username
    user = find_user(state, username)
    if user is None:
        raise CallError(f"{username}: user does not exist", errno.ENOENT)
    return user_object(state, user, with_privilege=True)


def _logged_in(call: Call, credentials: Credentials, options: dict[str, Any]) -> Response:
    call.session.credentials = credentials
    call.session.pending = None
    info = _me(call.rt.state, credentials) if options.get("user_info", True) else None
    return {"response_type": "SUCCESS", "user_info": info, "authenticator": _AUTHENTICATOR}


def _password(call: Call, data: dict[str, Any]) -> Response:
    state = call.rt.state
    username = data["username"]
    with state.lock:
        user = find_user(state, username)
        good = (user is not None and not user.get("locked") and not user.get("password_disabled")
                and state.passwords.get(username) == data["password"])
        needs_otp = username in state.otp_secrets
    if not good:
        return _failed(call)
    if needs_otp:
        call.session.pending = PendingLogin(username)
        return {"response_type": "OTP_REQUIRED", "username": username}
    return _logged_in(call, Credentials("LOGIN_PASSWORD", username), data["login_options"])


def _api_key(call: Call, data: dict[str, Any]) -> Response:
    key = api_key_owner(call.rt.state, data["api_key"])
    if key is None or key["username"] != data["username"]:
        return _failed(call)
    credentials = Credentials("API_KEY", key["username"],
                              api_key={"id": key["id"], "name": key["name"]})
    return _logged_in(call, credentials, data["login_options"])


def api_key_owner(state: State, value: str) -> dict[str, Any] | None:
    """Check an API key string.

    Args:
        state: The state.
        value: ``"<id>-<secret>"`` as a client sends it.

    Returns:
        A copy of the key's record when the key is valid and not revoked, else ``None``.
    """
    key_id, _, secret = value.partition("-")
    if not key_id.isdigit():
        return None
    with state.lock:
        key = state.tables["api_key"].get(int(key_id))
        expected = state.api_key_secrets.get(int(key_id))
        if key is None or expected is None or key["revoked"]:
            return None
        if not secrets.compare_digest(expected, secret):
            return None
        return copy.deepcopy(key)


def _token(call: Call, data: dict[str, Any]) -> Response:
    token = call.rt.tokens.find(data["token"], call.session.origin)
    # Tokens with attributes (downloads) are not login tokens.
    if token is None or token.attributes:
        return _failed(call)
    if token.single_use:
        call.rt.tokens.destroy(token)
    credentials = Credentials("TOKEN", token.parent.root.username, parent=token.parent)
    return _logged_in(call, credentials, data["login_options"])


def _otp(call: Call, data: dict[str, Any]) -> Response:
    pending = call.session.pending
    assert pending is not None  # checked by login_ex
    secret = call.rt.state.otp_secrets.get(pending.username, "")
    if totp.verify(secret, data["otp_token"]):
        return _logged_in(call, Credentials("LOGIN_TWOFACTOR", pending.username),
                          data["login_options"])
    call.rt.clock.sleep(_FAIL_DELAY)
    if pending.attempts < _MAX_OTP_ATTEMPTS:
        pending.attempts += 1
        return {"response_type": "OTP_REQUIRED", "username": pending.username}
    call.session.pending = None
    return {"response_type": "AUTH_ERR"}


def offered_mechanisms(catalog_accepts: list[dict[str, Any]]) -> tuple[str, ...]:
    """The ``auth.login_ex`` mechanisms a description offers (level 1, middleware order).

    Args:
        catalog_accepts: ``auth.login_ex``'s ``accepts`` schemas.

    Returns:
        The mechanisms, without ``OTP_TOKEN`` (a second step, not a choice).
    """
    text = repr(catalog_accepts)
    return tuple(m for m in _MECHANISMS if m != "SCRAM" or "'SCRAM'" in text)


def api_key_scram_keys(state: State, key_id: int, iterations: int) -> ScramKeys | None:
    """The SCRAM keys the middleware keeps for an API key (derived once per secret).

    The middleware stores salt, iterations, StoredKey and ServerKey per key
    (``account_api_key``; ``utils/crypto.py`` ``generate_api_key_auth_data``: a 16-byte
    salt, PBKDF2-SHA512 of the part of the key after ``<id>-``).

    Args:
        state: The state.
        key_id: The key's id.
        iterations: PBKDF2 iterations for a key derived now.

    Returns:
        The keys, or ``None`` when the key does not exist.
    """
    with state.lock:
        secret = state.api_key_secrets.get(key_id)
        cached = state.api_key_scram.get(key_id)
    if secret is None:
        return None
    if cached is not None and cached[0] == secret:
        keys: ScramKeys = cached[1]
        return keys
    keys = derive_keys(secret.encode(), secrets.token_bytes(_SALT_BYTES), iterations)
    with state.lock:
        state.api_key_scram[key_id] = (secret, keys)
    return keys


def _scram_user_key(state: State, name: str) -> tuple[str, dict[str, Any]] | None:
    username, _, key_id = name.rpartition(":")
    if not key_id.isdigit() or int(key_id) == 0:
        return None  # key id 0 is a password SCRAM login, which 26.0 does not offer
    with state.lock:
        key = state.tables["api_key"].get(int(key_id))
        user = find_user(state, username)
        if (key is None or key["revoked"] or key["username"] != username or user is None
                or user.get("locked")):
            return None
        return username, copy.deepcopy(key)


def _scram_first(call: Call, text: str) -> Response:
    session = call.session
    flag, comma, rest = text.partition(",")
    authzid, comma2, bare = rest.partition(",")
    try:
        if not comma or not comma2 or authzid:
            raise ScramSyntaxError("bad GS2 header")
        attrs = parse_attributes(bare, "nr")
        nonce = unb64(attrs["r"])
    except ScramSyntaxError:
        return _failed(call)
    if len(nonce) not in (NONCE_BYTES, 2 * NONCE_BYTES):
        return _failed(call)
    if flag.startswith("p="):
        # ScramPamAuthenticator.handle_first_message: binding only over TLS.
        if flag != f"p={CB_TLS_SERVER_END_POINT}" or not session.tls:
            return _failed(call)
    elif flag == "y":
        # RFC 5802 section 6: the client could bind but thinks this server cannot; over
        # TLS this server can, so someone stripped it: refuse.
        if session.tls:
            return _failed(call)
    elif flag != "n":
        return _failed(call)
    found = _scram_user_key(call.rt.state, attrs["n"])
    keys = api_key_scram_keys(call.rt.state, found[1]["id"], call.rt.scram_iterations) \
        if found else None
    if found is None or keys is None:
        return _failed(call)
    combined = b64(nonce + secrets.token_bytes(NONCE_BYTES))
    server_first = f"r={combined},s={b64(keys.salt)},i={keys.iterations}"
    session.scram = PendingScram(found[0], found[1]["id"], keys, f"{flag},,", bare,
                                 server_first, combined)
    return {"response_type": "SCRAM_RESPONSE", "scram_type": "SERVER_FIRST_RESPONSE",
            "rfc_str": server_first, "user_info": None}


def _scram_final(call: Call, text: str) -> Response:
    pending = call.session.scram
    if pending is None:
        raise CallError("SCRAM authentication is not in progress")
    call.session.scram = None
    try:
        attrs = parse_attributes(text, "crp")
        proof = unb64(attrs["p"])
    except ScramSyntaxError:
        return _failed(call)
    binding = call.session.channel_binding if pending.gs2_header.startswith("p=") else b""
    expected_c = b64(pending.gs2_header.encode() + (binding or b""))
    keys: ScramKeys = pending.keys
    final_bare = f"c={attrs['c']},r={attrs['r']}"
    message = auth_message(pending.client_first_bare, pending.server_first, final_bare)
    try:
        client_key = recover_client_key(keys.stored_key, message, proof)
    except ScramSyntaxError:
        return _failed(call)
    good = (hmac.compare_digest(attrs["c"], expected_c)
            and hmac.compare_digest(attrs["r"], pending.nonce)
            and hmac.compare_digest(hashlib.sha512(client_key).digest(), keys.stored_key))
    if not good:
        return _failed(call)
    with call.rt.state.lock:
        key = call.rt.state.tables["api_key"].get(pending.key_id)
        name = key["name"] if key is not None else ""
    credentials = Credentials("API_KEY", pending.username,
                              api_key={"id": pending.key_id, "name": name})
    _logged_in(call, credentials, {"user_info": False})
    return {"response_type": "SCRAM_RESPONSE", "scram_type": "SERVER_FINAL_RESPONSE",
            "rfc_str": f"v={b64(server_signature(keys.server_key, message))}",
            "user_info": _me(call.rt.state, credentials)}


def _scram(call: Call, data: dict[str, Any]) -> Response:
    if data["scram_type"] == "CLIENT_FIRST_MESSAGE":
        call.session.scram = None  # a new conversation replaces an unfinished one
        return _scram_first(call, data["rfc_str"])
    if data["scram_type"] == "CLIENT_FINAL_MESSAGE":
        return _scram_final(call, data["rfc_str"])
    raise CallError(f"{data['scram_type']}: invalid SCRAM type")


_LOGIN_MECHANISMS: dict[str, Callable[[Call, dict[str, Any]], Response]] = {
    "PASSWORD_PLAIN": _password,
    "API_KEY_PLAIN": _api_key,
    "TOKEN_PLAIN": _token,
    "OTP_TOKEN": _otp,
    "SCRAM": _scram,
}


def _login_ex(call: Call, data: dict[str, Any]) -> Response:
    mechanism = data["mechanism"]
    if call.session.pending is not None and mechanism != "OTP_TOKEN":
        call.session.pending = None
    if call.session.scram is not None and mechanism != "SCRAM":
        call.session.scram = None  # another mechanism abandons a SCRAM conversation
    if call.session.pending is None and mechanism == "OTP_TOKEN":
        raise CallError(f"{mechanism}: no authentication in progress", errno.EINVAL)
    if mechanism != "OTP_TOKEN" and mechanism not in call.rt.auth_mechanisms:
        # AuthService.check_auth_mechanism: the authenticator level decides.
        raise CallError(f"{mechanism}: mechanism is not supported at current authenticator "
                        "level.", errno.EOPNOTSUPP)
    if mechanism not in _LOGIN_MECHANISMS:
        # e.g. SCRAM (26.0): part of the contract, not of the simulation.
        raise CallError(f"auth.login_ex mechanism {mechanism} is not modelled by the maas_dyn "
                        "simulator", errno.ENOTSUP)
    return _LOGIN_MECHANISMS[mechanism](call, {"login_options": {"user_info": True}, **data})


@methods.method("auth.login_ex", "auth.login_ex_continue")
def login_ex(call: Call) -> Response:
    """Answer ``auth.login_ex(data)`` and ``auth.login_ex_continue(data)``."""
    return _login_ex(call, call.args[0])


@methods.method("auth.login")
def login(call: Call) -> bool:
    """Answer the legacy ``auth.login(username, password, otp_token)``."""
    username, password, otp_token = call.arg(0), call.arg(1), call.arg(2)
    quiet = {"user_info": False}
    response = _login_ex(call, {"mechanism": "PASSWORD_PLAIN", "username": username,
                                "password": password, "login_options": quiet})
    if response["response_type"] == "OTP_REQUIRED" and otp_token is not None:
        response = _login_ex(call, {"mechanism": "OTP_TOKEN", "otp_token": otp_token,
                                    "login_options": quiet})
    return bool(response["response_type"] == "SUCCESS")


@methods.method("auth.login_with_api_key")
def login_with_api_key(call: Call) -> bool:
    """Answer the legacy ``auth.login_with_api_key(api_key)``."""
    key = api_key_owner(call.rt.state, call.args[0])
    if key is None:
        _failed(call)
        return False
    response = _login_ex(call, {"mechanism": "API_KEY_PLAIN", "username": key["username"],
                                "api_key": call.args[0], "login_options": {"user_info": False}})
    return bool(response["response_type"] == "SUCCESS")


@methods.method("auth.login_with_token")
def login_with_token(call: Call) -> bool:
    """Answer the legacy ``auth.login_with_token(token)``."""
    response = _login_ex(call, {"mechanism": "TOKEN_PLAIN", "token": call.args[0],
                                "login_options": {"user_info": False}})
    return bool(response["response_type"] == "SUCCESS")


@methods.method("auth.logout")
def logout(call: Call) -> bool:
    """Answer ``auth.logout()``: forget the login and every subscription."""
    call.session.logout()
    return True


@methods.method("auth.me")
def auth_me(call: Call) -> dict[str, Any]:
    """Answer ``auth.me()``."""
    assert call.session.credentials is not None  # the method requires a login
    return _me(call.rt.state, call.session.credentials)


@methods.method("auth.mechanism_choices")
def mechanism_choices(call: Call) -> list[str]:
    """Answer ``auth.mechanism_choices()``: the mechanisms the server accepts."""
    return list(call.rt.auth_mechanisms)


@methods.method("auth.generate_token")
def generate_token(call: Call) -> str:
    """Answer ``auth.generate_token(ttl, attrs, match_origin, single_use)``."""
    ttl, attrs = call.arg(0, 600), call.arg(1) or {}
    match_origin, single_use = call.arg(2, True), call.arg(3, False)
    assert call.session.credentials is not None  # the method requires a login
    job_id = attrs.get("job")
    if job_id is not None:
        job = call.rt.jobs.get(job_id)
        if job is None:
            raise CallError(f"{job_id}: job does not exist.")
        if job.output is None:
            raise CallError(f"{job_id}: job is not suitable for download token")
    token = call.rt.tokens.create(
        call.session.credentials, ttl=ttl, attributes=attrs,
        origin=call.session.origin if match_origin else None, single_use=bool(single_use))
    return token.value


def _session_row(session: Session, current: Session) -> dict[str, Any]:
    assert session.credentials is not None
    dumped = session.credentials.dump()
    data = dumped["data"]
    if "parent" in data:
        parent = data["parent"]
        data = {**data, "parent": {"credentials": parent["type"],
                                   "credentials_data": parent["data"]}}
    return {"id": session.id, "current": session is current, "internal": False,
            "origin": session.origin, "credentials": dumped["type"], "credentials_data": data,
            "created_at": session.credentials.login_at, "secure_transport": False}


@methods.method("auth.sessions")
def sessions(call: Call) -> Any:
    """Answer ``auth.sessions(filters, options)`` with the logged-in sessions."""
    item = call.rt.state.result_item("auth.sessions")
    schema = call.rt.catalog.element_schema("auth.sessions")
    rows = [conform(schema, {**item, **_session_row(s, call.session)})
            for s in call.rt.events.sessions() if s.credentials is not None]
    return filter_list(rows, call.args[0], call.args[1])


def api_key_string(key_id: int, secret: str) -> str:
    """Format an API key the way clients send it.

    Args:
        key_id: The key's id.
        secret: The key's secret.

    Returns:
        ``"<id>-<secret>"``.
    """
    return f"{key_id}-{secret}"


def new_api_key(state: State, name: str, username: str, uid: int,
                expires_at: Any = None, *, secret: str | None = None
                ) -> tuple[dict[str, Any], str]:
    """Create an API key record and its secret.

    Args:
        state: The simulator's state.
        name: Key name.
        username: Owner.
        uid: Owner's uid.
        expires_at: Expiry, or ``None``.
        secret: The key's secret (the seeded key's is derived from the seed, so that
            it is the same on every start); a fresh random one when ``None``.

    Returns:
        ``(record, key string)``.
    """
    secret = secret if secret is not None else secrets.token_hex(32)
    key_id = state.next_id("api_key")
    digest = hashlib.sha512(secret.encode()).hexdigest()
    record = state.record("api_key", id=key_id, name=name, username=username,
                          user_identifier=uid, keyhash=f"$pbkdf2-sha512$500000${digest[:43]}",
                          created_at=datetime.now(timezone.utc), expires_at=expires_at,
                          local=True, revoked=False, revoked_reason=None)
    with state.lock:
        state.tables["api_key"][key_id] = record
        state.api_key_secrets[key_id] = secret
    return record, api_key_string(key_id, secret)


@methods.method("api_key.create")
def api_key_create(call: Call) -> dict[str, Any]:
    """Answer ``api_key.create(data)``; the reply alone carries the key string."""
    data = call.args[0]
    user = find_user(call.rt.state, data["username"])
    if user is None:
        raise ValidationErrors([("api_key_create.username",
                                 f"{data['username']}: user does not exist.", errno.ENOENT)])
    record, key = new_api_key(call.rt.state, data["name"], user["username"], user["uid"],
                              data.get("expires_at"))
    call.publish("api_key.query", "ADDED", record["id"], copy.deepcopy(record))
    return {**copy.deepcopy(record), "key": key}


@methods.method("api_key.update")
def api_key_update(call: Call) -> dict[str, Any]:
    """Answer ``api_key.update(id, data)``; ``reset`` issues a new secret."""
    key_id, data = call.args[0], call.args[1]
    record = api_keys.find(call, key_id)
    record.update({k: v for k, v in data.items() if k in ("name", "expires_at")})
    reply = dict(record)
    if data.get("reset"):
        secret = secrets.token_hex(32)
        with call.rt.state.lock:
            call.rt.state.api_key_secrets[key_id] = secret
        reply["key"] = api_key_string(key_id, secret)
    api_keys.store(call, key_id, record)
    return reply


@methods.method("api_key.delete")
def api_key_delete(call: Call) -> bool:
    """Answer ``api_key.delete(id)``."""
    api_keys.remove(call, call.args[0])
    with call.rt.state.lock:
        call.rt.state.api_key_secrets.pop(call.args[0], None)
    return True


@methods.method("api_key.my_keys")
def api_key_my_keys(call: Call) -> list[dict[str, Any]]:
    """Answer ``api_key.my_keys()``: keys of the logged-in user."""
    assert call.session.credentials is not None
    username = call.session.credentials.root.username
    return [row for row in call.rt.state.rows("api_key") if row["username"] == username]
