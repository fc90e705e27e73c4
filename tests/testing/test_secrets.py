"""Sessions full of secrets, recorded from the simulators: no secret survives in a cassette."""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from maas_dyn.maas import Client as MAASClient
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.testing import record
from maas_dyn.truenas import Client as TrueNASClient

_names = itertools.count(1)


def leaked(folder: Path, secrets: list[str]) -> list[tuple[str, str]]:
    """Every (file, secret) where a known secret appears in a recorded file."""
    assert secrets and all(len(secret) >= 6 for secret in secrets)
    return [(path.name, secret) for path in sorted(folder.iterdir())
            for secret in secrets if secret in path.read_text(encoding="utf-8")]


def test_maas_cassettes_hold_no_secret(maas_sim: MAASSimulator, maas_client: MAASClient,
                                       tmp_path: Path) -> None:
    user_password = "carol-SECRET-password-1"
    with record(maas_client, tmp_path / "admin.yaml"):
        maas_client.users.create(username=f"carol{next(_names)}", email="carol@example.com",
                                 password=user_password, is_superuser=False)
        token = maas_client.account.create_authorisation_token(name="ci")
        maas_client.account.list_authorisation_tokens()
    new_key = f"{token['consumer_key']}:{token['token_key']}:{token['token_secret']}"
    with MAASClient.from_release(maas_sim.version, url=maas_sim.url, api_key=new_key,
                                 cache=False) as other, record(other, tmp_path / "ci.yaml"):
        other.users.whoami()
    secrets = [maas_sim.api_key, *maas_sim.api_key.split(":"), user_password, new_key,
               token["token_key"], token["token_secret"], token["consumer_key"]]
    assert leaked(tmp_path, secrets) == []
    assert "Authorization" in (tmp_path / "ci.yaml").read_text()


def test_truenas_cassettes_hold_no_secret(truenas_sim: TrueNASSimulator,
                                          truenas_client: TrueNASClient, tmp_path: Path) -> None:
    user, user_password = f"dave{next(_names)}", "dave-SECRET-password-2"
    urls: list[str] = []

    def keep_download_url(method: str, result: Any, error: Any) -> None:
        if method == "core.download" and result:
            urls.append(result[1])

    truenas_client.hooks.register("after-call", keep_download_url)
    with record(truenas_client, tmp_path / "admin.jsonl"):
        truenas_client.user.create({"username": user, "full_name": "Dave",
                                    "password": user_password, "group_create": True})
        key = truenas_client.api_key.create({"name": user, "username": user})["key"]
        truenas_client.download("config.save", [{}], "config.db", io.BytesIO())
    auth_token = parse_qs(urlsplit(urls[0]).query)["auth_token"][0]

    def session(name: str, **credentials: Any) -> Any:
        # Each login mechanism of the same user; the password one makes a token.
        with TrueNASClient.from_release(truenas_sim.version, url=truenas_sim.url, cache=False,
                                        **credentials) as other, record(other, tmp_path / name):
            return other.auth.generate_token(300)

    token = session("by-password.jsonl", username=user, password=user_password)
    session("by-key.jsonl", username=user, api_key=key)
    session("by-token.jsonl", token=token)
    # The simulator's administrator has its own name as password: it is only ever
    # recorded redacted, wherever the name appears.
    secrets = [truenas_sim.password, truenas_sim.api_key, user_password, token, key,
               auth_token]
    assert leaked(tmp_path, secrets) == []
    assert "auth_token=<redacted>" in (tmp_path / "admin.jsonl").read_text()
    assert user in (tmp_path / "by-key.jsonl").read_text()  # what is not secret is kept
