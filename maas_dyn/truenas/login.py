"""Logging in: ``auth.login_ex`` mechanisms, the OTP second step and legacy fallbacks.

The mechanism follows from the credentials given (:data:`MECHANISMS`): an API key
(``API_KEY_PLAIN``), a password (``PASSWORD_PLAIN``) or a token (``TOKEN_PLAIN``). The
server's ``response_type`` decides what happens next (:data:`RESPONSES`); an
``OTP_REQUIRED`` answer is followed by ``auth.login_ex_continue`` with a one-time
password from ``otp`` (a string, or a callable such as a prompt). Servers without
``auth.login_ex`` (before 24.10) get the legacy ``auth.login``,
``auth.login_with_api_key`` or ``auth.login_with_token``.

Secrets never appear in reprs, logs or error messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from maas_dyn.errors import AuthenticationError, ConfigurationError, MethodNotFound
from maas_dyn.truenas.endpoint import Endpoint, is_loopback

__all__ = [
    "MECHANISMS",
    "RESPONSES",
    "Credentials",
    "Mechanism",
    "check_api_key_transport",
    "login",
]

_log = logging.getLogger("maas_dyn.truenas")

CallFn = Callable[[str, list[Any]], Any]
OTPSource = str | Callable[[], str]

# A callable OTP source (a prompt) may be asked again after a wrong code, this often.
MAX_OTP_ATTEMPTS = 3


class Credentials:
    """What a client logs in with; secrets are kept out of its repr.

    Args:
        username: The user (needed with a password, and by ``auth.login_ex`` with an
            API key).
        password: The user's password.
        api_key: An API key (``"1-..."``).
        token: A token from ``auth.generate_token``.
        otp: The one-time password for two-factor logins, or a callable returning it
            (called each time one is needed, e.g. after a reconnect).

    Raises:
        ConfigurationError: Not exactly one of ``password``, ``api_key`` and ``token``,
            or a password without a username.
    """

    __slots__ = ("api_key", "otp", "password", "token", "username")

    def __init__(self, username: str | None = None, password: str | None = None,
                 api_key: str | None = None, token: str | None = None,
                 otp: OTPSource | None = None):
        given = [name for name, value in (("password", password), ("api_key", api_key),
                                          ("token", token)) if value]
        if len(given) != 1:
            raise ConfigurationError(
                "pass exactly one of password=, api_key= or token= to log in"
                + (f" (got {', '.join(given)})" if given else ""))
        if password and not username:
            raise ConfigurationError("a password login needs username=")
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


def login(call: CallFn, credentials: Credentials, url: str) -> str:
    """Log a session in.

    Args:
        call: Calls a method on the session: ``call(method, params) -> result``.
        credentials: What to log in with.
        url: The server URL, for messages.

    Returns:
        The name of the method that logged in (``auth.login_ex`` or a legacy one).

    Raises:
        AuthenticationError: The server refused the credentials, or asked for a
            one-time password that could not be given.
    """
    attempt = _Attempt(call, credentials, url)
    mechanism = credentials.mechanism
    if mechanism.ready(credentials):
        try:
            reply = call("auth.login_ex", [mechanism.payload(credentials)])
        except MethodNotFound:
            _log.info("%s has no auth.login_ex; logging in with %s", url,
                      mechanism.legacy_method)
        else:
            _answer(attempt, reply)
            return "auth.login_ex"
    params = mechanism.legacy_params(credentials)
    if mechanism.name == "PASSWORD_PLAIN" and credentials.otp is not None:
        otp = credentials.otp
        params.append(otp() if callable(otp) else otp)
    if not call(mechanism.legacy_method, params):
        _fail(attempt, f"the server refused the credentials ({mechanism.legacy_method})",
              "check the username and secret; API keys may have been revoked",
              mechanism.legacy_method)
    return mechanism.legacy_method
