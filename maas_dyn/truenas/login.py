"""Logging in: ``auth.login_ex`` mechanisms, the OTP second step and legacy fallbacks.

The mechanism follows from the credentials given (:data:`MECHANISMS`): an API key
(``SCRAM`` where the server offers it, see :func:`choose_api_key_mechanism`, else
``API_KEY_PLAIN``), a password (``PASSWORD_PLAIN``) or a token (``TOKEN_PLAIN``). The
server's ``response_type`` decides what happens next (:data:`RESPONSES`); an
``OTP_REQUIRED`` answer is followed by ``auth.login_ex_continue`` with a one-time
password from ``otp`` (a string, or a callable such as a prompt). Servers without
``auth.login_ex`` (before 24.10) get the legacy ``auth.login``,
``auth.login_with_api_key`` or ``auth.login_with_token``.

Secrets never appear in reprs, logs or error messages.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NoReturn

from maas_dyn._scram import ScramSyntaxError, tls_server_end_point
from maas_dyn.errors import (
    APIError,
    AuthenticationError,
    CallError,
    ConfigurationError,
    MethodNotFound,
)
from maas_dyn.truenas.endpoint import Endpoint, is_loopback, parse_endpoint
from maas_dyn.truenas.scram import (
    STEP_FINAL,
    STEP_FIRST,
    DerivedApiKey,
    ScramExchange,
    ScramStepError,
)

__all__ = [
    "API_KEY_MECHANISMS",
    "MECHANISMS",
    "RESPONSES",
    "ApiKeyMechanism",
    "Credentials",
    "LoginChannel",
    "Mechanism",
    "check_api_key_transport",
    "choose_api_key_mechanism",
    "login",
]

_log = logging.getLogger("maas_dyn.truenas")

CallFn = Callable[[str, list[Any]], Any]
OTPSource = str | Callable[[], str]
ApiKeyMechanism = Literal["auto", "SCRAM", "API_KEY_PLAIN"]
API_KEY_MECHANISMS: tuple[str, ...] = ("auto", "SCRAM", "API_KEY_PLAIN")

# errnames of "mechanism not allowed at the current authenticator level" (EOPNOTSUPP;
# Linux spells it ENOTSUP too).
_REFUSED_MECHANISM = frozenset({"EOPNOTSUPP", "ENOTSUP"})

# A callable OTP source (a prompt) may be asked again after a wrong code, this often.
MAX_OTP_ATTEMPTS = 3


class Credentials:
    """What a client logs in with; secrets are kept out of its repr.

    Args:
        username: The user (needed with a password, and by ``auth.login_ex`` with an
            API key).
        password: The user's password.
        api_key: An API key (``"1-..."``), or its :class:`DerivedApiKey` (SCRAM only).
        token: A token from ``auth.generate_token``.
        otp: The one-time password for two-factor logins, or a callable returning it
            (called each time one is needed, e.g. after a reconnect).
        api_key_mechanism: How an API key logs in: ``"auto"`` (SCRAM when offered; see
            :func:`choose_api_key_mechanism`), ``"SCRAM"`` (never plain) or
            ``"API_KEY_PLAIN"`` (send the key itself, the caller's explicit choice).

    Attributes:
        used: The mechanism of the last successful login (``None`` before). A SCRAM
            login pins it: later logins (reconnects) use SCRAM again, never plain.
        derived: The SCRAM keys derived during the last SCRAM login (reused by
            reconnects instead of deriving again; what a profile may keep).

    Raises:
        ConfigurationError: Not exactly one of ``password``, ``api_key`` and ``token``,
            a password without a username, an unknown ``api_key_mechanism``, or
            derived key material with ``API_KEY_PLAIN``.
    """

    __slots__ = ("api_key", "api_key_mechanism", "derived", "otp", "password", "token",
                 "used", "username")

    def __init__(self, username: str | None = None, password: str | None = None,
                 api_key: str | DerivedApiKey | None = None, token: str | None = None,
                 otp: OTPSource | None = None, *, api_key_mechanism: str = "auto"):
        given = [name for name, value in (("password", password), ("api_key", api_key),
                                          ("token", token)) if value]
        if len(given) != 1:
            raise ConfigurationError(
                "pass exactly one of password=, api_key= or token= to log in"
                + (f" (got {', '.join(given)})" if given else ""))
        if password and not username:
            raise ConfigurationError("a password login needs username=")
        if api_key_mechanism not in API_KEY_MECHANISMS:
            raise ConfigurationError(f"api_key_mechanism must be one of "
                                     f"{', '.join(API_KEY_MECHANISMS)}, "
                                     f"not {api_key_mechanism!r}")
        if isinstance(api_key, DerivedApiKey) and api_key_mechanism == "API_KEY_PLAIN":
            raise ConfigurationError("derived SCRAM key material cannot log in with "
                                     "API_KEY_PLAIN; that needs the raw API key")
        self.api_key_mechanism = api_key_mechanism
        self.used: str | None = None
        self.derived: DerivedApiKey | None = \
            api_key if isinstance(api_key, DerivedApiKey) else None
        self.username = username
        self.password = password
        self.api_key = api_key
        self.token = token
        self.otp = otp

    @property
    def mechanism(self) -> Mechanism:
        """The login mechanism these credentials use."""
        return next(m for m in MECHANISMS if getattr(self, m.secret))

    def __repr__(self) -> str:
        who = f"username={self.username!r}, " if self.username else ""
        return f"Credentials({who}{self.mechanism.secret}=<hidden>)"


@dataclass(frozen=True)
class Mechanism:
    """One way to log in.

    Attributes:
        name: The ``auth.login_ex`` mechanism name.
        secret: The :class:`Credentials` attribute holding the secret.
        fields: ``auth.login_ex`` fields, as ``{wire name: Credentials attribute}``.
        legacy_method: The pre-24.10 login method.
        legacy_fields: Its positional parameters, as Credentials attributes.
    """

    name: str
    secret: str
    fields: Mapping[str, str]
    legacy_method: str
    legacy_fields: tuple[str, ...]

    def ready(self, credentials: Credentials) -> bool:
        """Tell whether ``auth.login_ex`` can be used (every field is known)."""
        return all(getattr(credentials, attr) for attr in self.fields.values())

    def payload(self, credentials: Credentials) -> dict[str, Any]:
        """Build the ``auth.login_ex`` argument."""
        data = {"mechanism": self.name}
        data.update({wire: getattr(credentials, attr) for wire, attr in self.fields.items()})
        return data

    def legacy_params(self, credentials: Credentials) -> list[Any]:
        """Build the legacy method's parameters."""
        return [getattr(credentials, attr) for attr in self.legacy_fields]


MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism("API_KEY_PLAIN", "api_key", {"username": "username", "api_key": "api_key"},
              "auth.login_with_api_key", ("api_key",)),
    Mechanism("PASSWORD_PLAIN", "password", {"username": "username", "password": "password"},
              "auth.login", ("username", "password")),
    Mechanism("TOKEN_PLAIN", "token", {"token": "token"},
              "auth.login_with_token", ("token",)),
)


def check_api_key_transport(endpoint: Endpoint, credentials: Credentials | None,
                            allow_insecure_api_key: bool) -> None:
    """Refuse to send an API key in clear text to another machine.

    Since 25.04 a TrueNAS server revokes an API key that reaches it over a plain
    ``ws://`` connection from a non-loopback client.

    Args:
        endpoint: Where the client connects.
        credentials: What it logs in with.
        allow_insecure_api_key: The user accepts the risk.

    Raises:
        ConfigurationError: An API key would travel unencrypted to a remote host.
    """
    if (credentials is None or not credentials.api_key or endpoint.secure
            or allow_insecure_api_key or is_loopback(endpoint.host)):
        return
    raise ConfigurationError(
        f"refusing to send an API key over unencrypted ws:// to {endpoint.host}: the server "
        "would revoke the key (TrueNAS 25.04+ revokes keys received over plain connections "
        "from other hosts). Use wss://, or pass allow_insecure_api_key=True to send it anyway")


@dataclass(frozen=True)
class LoginChannel:
    """What the client knows about the connection it logs in over.

    Attributes:
        tls: The connection uses TLS (``wss://``).
        verified: The server certificate was verified (``verify`` not ``False``).
        loopback: The server is this machine.
        certificate: The server certificate (DER) as the TLS session presented it, for
            channel binding; ``None`` without TLS or when the link cannot tell.
    """

    tls: bool = False
    verified: bool = False
    loopback: bool = False
    certificate: bytes | None = None

    @classmethod
    def of(cls, endpoint: Endpoint, verify: bool | str = True,
           certificate: bytes | None = None) -> LoginChannel:
        """Describe a connection to ``endpoint``.

        Args:
            endpoint: Where the client connected.
            verify: The client's ``verify`` option.
            certificate: The certificate the server presented (DER), if any.

        Returns:
            The channel.
        """
        return cls(endpoint.secure, endpoint.secure and verify is not False,
                   is_loopback(endpoint.host), certificate if endpoint.secure else None)

    @property
    def trusted(self) -> bool:
        """Whether an unauthenticated answer (the mechanism list) can be taken at its word.

        Over verified TLS no one in between can alter it. Over loopback the answer never
        leaves this machine (an SSH tunnel to a remote box included); a network attacker
        cannot reach it, so pre-26 servers reached that way keep working in ``"auto"``.
        """
        return (self.tls and self.verified) or self.loopback


def _offered(call: CallFn, url: str) -> list[str] | None:
    """Ask ``auth.mechanism_choices`` (unauthenticated); ``None`` when it cannot answer."""
    try:
        choices = call("auth.mechanism_choices", [])
    except MethodNotFound:
        return None
    except AuthenticationError:
        raise
    except APIError as exc:
        # 25.04.2 to 25.10.2 fail this call before login (the official client's note);
        # such a server has no SCRAM either.
        _log.debug("auth.mechanism_choices failed on %s (%s)", url, type(exc).__name__)
        return None
    return [str(c) for c in choices] if isinstance(choices, list) else None


def choose_api_key_mechanism(call: CallFn, credentials: Credentials, channel: LoginChannel,
                             url: str) -> str:
    """Decide how an API key logs in: ``"SCRAM"`` or ``"API_KEY_PLAIN"``.

    ``SCRAM`` whenever the server offers it. Plain only when the caller asked for it
    (``api_key_mechanism="API_KEY_PLAIN"``), or, in ``"auto"``, when a server without
    SCRAM said so over a channel no man in the middle could alter
    (:attr:`LoginChannel.trusted`). A session that once logged in by SCRAM never falls
    back to plain (a downgrade), and derived key material cannot go plain at all.

    Args:
        call: Calls a method on the session.
        credentials: The API key credentials.
        channel: The connection.
        url: The server URL, for messages.

    Returns:
        The mechanism.

    Raises:
        AuthenticationError: SCRAM is required (asked for, pinned, or the only way with
            derived keys or an untrusted channel) but the server does not offer it.
    """
    wanted = "SCRAM" if credentials.used == "SCRAM" else credentials.api_key_mechanism
    if wanted == "API_KEY_PLAIN":
        return "API_KEY_PLAIN"
    offered = _offered(call, url)
    if offered is not None and "SCRAM" in offered:
        return "SCRAM"
    derived = isinstance(credentials.api_key, DerivedApiKey)
    if wanted == "auto" and channel.trusted and not derived:
        return "API_KEY_PLAIN"
    shown = (", ".join(offered) or "none") if offered is not None \
        else "no list (auth.mechanism_choices is unavailable)"
    plain_hint = ("if this server predates TrueNAS 26.0, pass api_key_mechanism="
                  "'API_KEY_PLAIN' to send the key itself")
    if credentials.used == "SCRAM":
        text = (f"this client logged in by SCRAM before, but the server now offers {shown}; "
                "it will not fall back to sending the API key in plain (a downgrade)")
        hint = "if the server really was reinstalled with an older release, " + plain_hint
    elif derived:
        text = (f"the server does not offer SCRAM (it offers {shown}), and only derived "
                "SCRAM keys are at hand, which cannot log in any other way")
        hint = "log in with the raw API key (and api_key_mechanism='API_KEY_PLAIN')"
    elif wanted == "SCRAM":
        text = f"SCRAM was asked for, but the server does not offer it (it offers {shown})"
        hint = "SCRAM needs TrueNAS 26.0 or later; " + plain_hint
    else:
        where = "ws://" if not channel.tls else "wss:// without certificate verification"
        text = (f"the server does not offer SCRAM (it offers {shown}), and over {where} "
                "that answer could come from a man in the middle, so the API key is not "
                "sent in plain on its word")
        hint = "use wss:// with certificate verification, or " + plain_hint
    raise AuthenticationError(text, method="auth.mechanism_choices", url=url, hint=hint)


@dataclass
class _Attempt:
    call: CallFn
    credentials: Credentials
    url: str
    otp_attempts: int = 0


def _fail(attempt: _Attempt, text: str, hint: str, method: str = "auth.login_ex") -> NoReturn:
    raise AuthenticationError(text, method=method, url=attempt.url, hint=hint)


def _success(attempt: _Attempt, reply: Mapping[str, Any]) -> None:
    _log.debug("logged in to %s with %s", attempt.url, attempt.credentials.mechanism.name)
def _otp_required(attempt: _Attempt, reply: Mapping[str, Any]) -> None:
    source = attempt.credentials.otp
    if source is None:
        _fail(attempt, "the server asks for a one-time password (two-factor authentication)",
              "pass otp='123456', or otp=a callable that returns the current code")
    limit = MAX_OTP_ATTEMPTS if callable(source) else 1
    if attempt.otp_attempts >= limit:
        _fail(attempt, f"the one-time password was refused ({attempt.otp_attempts} attempts)",
              "check the code and the clocks of both machines", "auth.login_ex_continue")
    attempt.otp_attempts += 1
    code = source() if callable(source) else source
    answer = attempt.call("auth.login_ex_continue", [{"mechanism": "OTP_TOKEN",
                                                      "otp_token": str(code).strip()}])
    _answer(attempt, answer)


def _auth_err(attempt: _Attempt, reply: Mapping[str, Any]) -> None:
    if attempt.otp_attempts:
        _fail(attempt, "the one-time password was refused",
              "check the code and the clocks of both machines", "auth.login_ex_continue")
    _fail(attempt, f"the server refused the credentials ({attempt.credentials.mechanism.name} "
          f"for {attempt.credentials.username or 'the token'})",
          "check the username and secret; API keys may have been revoked")


def _expired(attempt: _Attempt, reply: Mapping[str, Any]) -> None:
    _fail(attempt, "the credentials have expired", "set a new password or create a new API key")


def _redirect(attempt: _Attempt, reply: Mapping[str, Any]) -> None:
    urls = ", ".join(str(u) for u in reply.get("urls") or ()) or "the active controller"
    _fail(attempt, "this controller is not active and cannot log you in",
          f"connect to {urls} instead")


RESPONSES: Mapping[str, Callable[[_Attempt, Mapping[str, Any]], None]] = {
    "SUCCESS": _success,
    "OTP_REQUIRED": _otp_required,
    "AUTH_ERR": _auth_err,
    "EXPIRED": _expired,
    "REDIRECT": _redirect,
}


def _answer(attempt: _Attempt, reply: Any) -> None:
    kind = reply.get("response_type") if isinstance(reply, Mapping) else None
    handler = RESPONSES.get(str(kind))
    if handler is None:
        _fail(attempt, f"unexpected answer to auth.login_ex: response_type={kind!r}",
              "report this; the client may be older than the server")
    handler(attempt, reply)


def login(call: CallFn, credentials: Credentials, url: str,
          channel: LoginChannel | None = None) -> str:
    """Log a session in.

    Args:
        call: Calls a method on the session: ``call(method, params) -> result``.
        credentials: What to log in with.
        url: The server URL, for messages.
        channel: The connection (TLS, verification, certificate); by default what the
            URL tells, with an unverified certificate and no channel binding.

    Returns:
        The name of the method that logged in (``auth.login_ex`` or a legacy one).

    Raises:
        AuthenticationError: The server refused the credentials, or asked for a
            one-time password that could not be given, or a SCRAM step failed (the
            message names the step), or an API key would have to go plain against the
            rules of :func:`choose_api_key_mechanism`.
    """
    attempt = _Attempt(call, credentials, url)
    mechanism = credentials.mechanism
    if credentials.api_key:
        if channel is None:
            channel = LoginChannel.of(parse_endpoint(url))
        if choose_api_key_mechanism(call, credentials, channel, url) == "SCRAM":
            _scram(attempt, channel)
            credentials.used = "SCRAM"
            return "auth.login_ex"
    if mechanism.ready(credentials):
        try:
            reply = call("auth.login_ex", [mechanism.payload(credentials)])
        except MethodNotFound:
            _log.info("%s has no auth.login_ex; logging in with %s", url,
                      mechanism.legacy_method)
        except CallError as exc:
            if exc.errname not in _REFUSED_MECHANISM:
                raise
            _fail(attempt, f"the server does not allow the {mechanism.name} mechanism "
                  "(its authenticator level forbids it)",
                  "see auth.mechanism_choices for what it allows"
                  + ("; API keys log in by SCRAM unless api_key_mechanism='API_KEY_PLAIN'"
                     if credentials.api_key else ""))
        else:
            _answer(attempt, reply)
            credentials.used = mechanism.name
            return "auth.login_ex"
    params = mechanism.legacy_params(credentials)
    if mechanism.name == "PASSWORD_PLAIN" and credentials.otp is not None:
        otp = credentials.otp
        params.append(otp() if callable(otp) else otp)
    if not call(mechanism.legacy_method, params):
        _fail(attempt, f"the server refused the credentials ({mechanism.legacy_method})",
              "check the username and secret; API keys may have been revoked",
              mechanism.legacy_method)
    credentials.used = mechanism.name
    return mechanism.legacy_method


def _scram(attempt: _Attempt, channel: LoginChannel) -> None:
    credentials = attempt.credentials
    if not credentials.username:
        _fail(attempt, "a SCRAM login needs the user the API key belongs to",
              "pass username=, or api_key_mechanism='API_KEY_PLAIN' to send the key itself")
    binding = None
    if channel.tls and channel.certificate:
        try:
            binding = tls_server_end_point(channel.certificate)
        except ScramSyntaxError as exc:
            _fail(attempt, f"cannot bind SCRAM to the server certificate: {exc}",
                  "use a certificate signed with RSA or ECDSA")
    key = credentials.derived or credentials.api_key
    assert key is not None
    try:
        exchange = ScramExchange(credentials.username, key, binding)
        reply = _scram_step(attempt, exchange.first(), STEP_FIRST, binding)
        reply = _scram_step(attempt, exchange.final(reply), STEP_FINAL, binding)
        try:
            exchange.verify(reply)
        except ScramStepError:
            # The server said SUCCESS to a proof it could not have checked: end the session.
            with contextlib.suppress(Exception):
                attempt.call("auth.logout", [])
            raise
    except ScramStepError as exc:
        _fail(attempt, f"SCRAM login failed at {exc.step}: {exc.text}", exc.hint)
    assert exchange.derived is not None
    credentials.derived = DerivedApiKey(exchange.key_id, exchange.derived)
    _log.debug("logged in to %s with SCRAM%s", attempt.url,
               " (channel-bound)" if binding else "")


def _scram_step(attempt: _Attempt, payload: dict[str, Any], step: str,
                binding: bytes | None) -> Mapping[str, Any]:
    try:
        reply = attempt.call("auth.login_ex", [payload])
    except AuthenticationError:
        raise
    except APIError as exc:
        errname = getattr(exc, "errname", "") or type(exc).__name__
        raise ScramStepError(
            step, f"the server refused the SCRAM mechanism ({errname})",
            "the server's authenticator level may not allow SCRAM (see "
            "auth.mechanism_choices); ask its administrator") from None
    kind = reply.get("response_type") if isinstance(reply, Mapping) else None
    if kind == "SCRAM_RESPONSE":
        return reply  # type: ignore[no-any-return]
    if kind == "AUTH_ERR" and step == STEP_FIRST:
        raise ScramStepError(step, "the server refused the user or the API key id (unknown, "
                             "revoked, or not this user's key)",
                             "check username= and the key; create a new key if it was revoked")
    if kind == "AUTH_ERR":
        bound = (", or the channel binding did not match the certificate the server "
                 "presented (a TLS-intercepting proxy in between?)") if binding else ""
        raise ScramStepError(step, "the server refused the proof: the API key is wrong"
                             + bound, "check the API key; create a new one if it was reset")
    if kind in ("EXPIRED", "REDIRECT"):
        RESPONSES[str(kind)](attempt, reply)
    raise ScramStepError(step, f"unexpected answer response_type={kind!r}",
                         "report this; the client may be older than the server")
