"""Profiles: login, logout, list, refresh, import from ~/.maascli.db, the env profile."""

from __future__ import annotations

import io
import json
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from maas_dyn.cli._common.profiles import Profile, ProfileStore, api_url, split_api_url

from .conftest import API, KEY, Recorder, Result, json_reply, text_reply

DESCRIBE = API + "/describe/"
OPENAPI = API + "/openapi.yaml"  # fetched with the description (MAAS 3.3 on serves it)


@pytest.mark.parametrize(("given", "stored", "base", "version"), [
    ("http://r:5240/MAAS/", "http://r:5240/MAAS/api/2.0/", "http://r:5240/MAAS/", "2.0"),
    ("http://r:5240/MAAS", "http://r:5240/MAAS/api/2.0/", "http://r:5240/MAAS/", "2.0"),
    ("http://r:5240", "http://r:5240/MAAS/api/2.0/", "http://r:5240/MAAS/", "2.0"),
    ("http://r/MAAS/api/1.0/", "http://r/MAAS/api/1.0/", "http://r/MAAS/", "1.0"),
    ("https://p/region/MAAS/api/2.0", "https://p/region/MAAS/api/2.0/", "https://p/region/MAAS/",
     "2.0"),
])
def test_api_urls(given: str, stored: str, base: str, version: str) -> None:
    assert api_url(given) == stored
    assert split_api_url(stored) == (base, version)


def test_login_checks_the_key_then_fetches_the_description(
        cli: Callable[..., Result], doc37: Any) -> None:
    transport = Recorder()
    transport.queue += [json_reply({"username": "admin"}), json_reply(doc37)]
    result = cli("login", "prod", "http://127.0.0.1:5240/MAAS/", KEY, transport=transport)
    assert result.code == 0, result.err
    (whoami, signed), (describe, unsigned), (openapi, anonymous) = transport.requests
    assert (whoami.method, whoami.url) == ("GET", API + "/users/?op=whoami")
    assert signed is not None and signed.startswith("OAuth ")
    assert (describe.url, unsigned) == (DESCRIBE, None)
    assert (openapi.url, anonymous) == (OPENAPI, None)
    assert "logged in to the MAAS server at http://127.0.0.1:5240/MAAS/api/2.0/" in result.out
    profile = ProfileStore().load("prod")
    assert (profile.url, profile.api_key) == (API + "/", KEY)
    assert profile.description is not None and profile.description["hash"] == doc37["hash"]
    assert "handlers" not in profile.description  # a copy of "resources", not stored twice
    assert profile.description["resources"] == doc37["resources"]


def test_rejected_key(cli: Callable[..., Result]) -> None:
    transport = Recorder(json_reply({}, 401))
    result = cli("login", "prod", "http://127.0.0.1:5240/MAAS/", KEY, transport=transport)
    assert result.code == 1
    assert "The MAAS server rejected your API key." in result.err
    assert len(transport.requests) == 1 and "prod" not in ProfileStore().names()


def test_unexpected_answer_to_the_key_check(cli: Callable[..., Result]) -> None:
    transport = Recorder(text_reply(403, "nope"))
    result = cli("login", "prod", "http://127.0.0.1:5240/MAAS/", KEY, transport=transport)
    assert result.code == 1 and "unexpected response: 403: nope" in result.err


def test_anonymous_login_and_key_from_stdin(cli: Callable[..., Result], doc37: Any,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    transport = Recorder(json_reply(doc37))
    assert cli("login", "anon", "http://127.0.0.1:5240/MAAS/", transport=transport).code == 0
    assert [r.url for r, _ in transport.requests] == [DESCRIBE, OPENAPI]
    assert ProfileStore().load("anon").api_key is None

    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))
    transport = Recorder(json_reply(doc37))
    transport.queue.append(json_reply({"username": "admin"}))
    assert cli("login", "piped", "http://127.0.0.1:5240/MAAS/", "-", transport=transport).code == 0
    assert ProfileStore().load("piped").api_key == KEY


def test_login_to_maas_1_9_checks_the_key_with_nodegroups(cli: Callable[..., Result],
                                                          doc37: Any) -> None:
    transport = Recorder(json_reply(doc37))
    transport.queue.append(json_reply([]))
    result = cli("login", "old", "http://127.0.0.1:5240/MAAS/api/1.0/", KEY, transport=transport)
    assert result.code == 0, result.err
    assert [r.url for r, _ in transport.requests] == [
        "http://127.0.0.1:5240/MAAS/api/1.0/nodegroups/?op=list",
        "http://127.0.0.1:5240/MAAS/api/1.0/describe/",
        "http://127.0.0.1:5240/MAAS/api/1.0/openapi.yaml",  # a 1.9 region answers 404
    ]


@pytest.mark.parametrize(("argv", "message"), [
    (["login", "bad", "http://127.0.0.1:5240/MAAS/", "not-a-key"], "three non-empty parts"),
    (["login", "env", "http://127.0.0.1:5240/MAAS/"], "reserved"),
    (["login", "list", "http://127.0.0.1:5240/MAAS/"], "reserved"),
    (["login", "a/b", "http://127.0.0.1:5240/MAAS/"], "invalid profile name"),
    (["login", "x", "ftp://127.0.0.1/MAAS/"], "must start with http"),
    (["login", "x"], "required: url"),
])
def test_login_usage_errors(cli: Callable[..., Result], argv: list[str], message: str) -> None:
    result = cli(*argv)
    assert result.code == 2 and message in result.err
    assert result.transport.requests == []


def test_profile_files_are_private(store: ProfileStore) -> None:
    path = store.root / "admin.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    assert "secretSECRET" not in repr(store.load("admin"))


def test_the_config_folder_made_for_profiles_is_private_too(tmp_path: Path) -> None:
    # Found by the secrets audit: mkdir(parents=True) made maas_dyn's config folder 0755.
    home_config = tmp_path / "config"  # the user's own folder: its mode is left alone
    ProfileStore(home_config / "maas_dyn" / "profiles").save(Profile("admin", API + "/", KEY))
    ProfileStore(home_config / "maas_dyn" / "truenas-profiles", dialect="truenas").save(
        Profile("nas", "wss://nas.test/api/current", "1-key", {"pool.query": {}},
                dialect="truenas", username="root"))
    for folder in (home_config / "maas_dyn", home_config / "maas_dyn" / "profiles",
                   home_config / "maas_dyn" / "truenas-profiles",
                   home_config / "maas_dyn" / "truenas-profiles" / ".methods"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_unwritable_store(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(Exception, match="cannot write profile"):
        ProfileStore(blocker / "profiles").save(Profile("x", API + "/"))


def test_corrupt_profile(cli: Callable[..., Result], store: ProfileStore) -> None:
    (store.root / "broken.json").write_text("{not json")
    result = cli("broken", "machines", "read")
    assert result.code == 1 and "cannot read profile 'broken'" in result.err


def test_list_shows_names_and_urls_only(cli: Callable[..., Result], store: ProfileStore) -> None:
    store.save(Profile("anon", "http://other:5240/MAAS/api/2.0/"))
    result = cli("list")
    assert result.out == f"admin {API}/\nanon http://other:5240/MAAS/api/2.0/\n"
    assert not any(part in result.out + result.err for part in KEY.split(":"))


def test_list_without_any_profile(cli: Callable[..., Result], store: ProfileStore) -> None:
    store.delete("admin")
    store.root.rmdir()
    assert cli("list").out == ""


def test_logout(cli: Callable[..., Result], store: ProfileStore) -> None:
    assert cli("logout", "admin").code == 0
    assert store.names() == []
    result = cli("logout", "admin")
    assert result.code == 2 and "unknown profile 'admin'" in result.err


def test_refresh_all_and_named(cli: Callable[..., Result], store: ProfileStore,
                               doc37: Any) -> None:
    store.save(Profile("second", API + "/", None, {"resources": [], "hash": "old"}))
    transport = Recorder(json_reply(doc37))
    result = cli("refresh", transport=transport)
    assert result.code == 0
    assert [r.url for r, _ in transport.requests] == [DESCRIBE, OPENAPI, DESCRIBE, OPENAPI]
    assert all(auth is None for _, auth in transport.requests)  # describe is unsigned
    assert store.load("second").description["hash"] == doc37["hash"]
    assert result.out.splitlines() == [f"admin: description {doc37['hash'][:12]}",
                                       f"second: description {doc37['hash'][:12]}"]
    transport = Recorder(json_reply(doc37))
    assert cli("refresh", "second", transport=transport).code == 0
    assert [r.url for r, _ in transport.requests] == [DESCRIBE, OPENAPI]


def test_refresh_failure_is_reported_and_others_continue(
        cli: Callable[..., Result], store: ProfileStore, doc37: Any) -> None:
    store.save(Profile("second", API + "/", None, {"resources": []}))
    transport = Recorder(json_reply(doc37))
    transport.queue.append(text_reply(500, "boom"))
    result = cli("refresh", transport=transport)
    assert result.code == 1
    assert "cannot refresh 'admin'" in result.err and "second: description" in result.out


def _official_db(path: Path, doc: Any) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE profiles (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
                   " data BLOB)")
        for name, creds in (("admin", KEY.split(":")), ("anon", None), ("bad/name", None)):
            data = {"name": name, "url": "http://region:5240/MAAS/api/2.0/",
                    "credentials": creds, "description": doc, "cacerts": None}
            db.execute("INSERT INTO profiles (name, data) VALUES (?, ?)",
                       (name, json.dumps(data)))


def test_import_from_the_official_database(cli: Callable[..., Result], store: ProfileStore,
                                           tmp_path: Path, doc37: Any) -> None:
    database = tmp_path / "maascli.db"
    _official_db(database, doc37)
    result = cli("profiles", "import", "--from", str(database))
    assert result.code == 0
    assert result.out == "imported anon http://region:5240/MAAS/api/2.0/\n"
    assert "skipped 'admin': a profile of that name exists" in result.err
    assert "skipped 'bad/name'" in result.err
    assert store.load("anon").api_key is None
    assert store.load("admin").url == API + "/"  # not replaced
    result = cli("profiles", "import", "--from", str(database), "--force")
    assert store.load("admin").url == "http://region:5240/MAAS/api/2.0/"
    assert store.load("admin").api_key == KEY
    assert KEY not in result.out + result.err


def test_import_default_path_and_errors(cli: Callable[..., Result], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    result = cli("profiles", "import")
    assert result.code == 2 and f"no official maas CLI profile database at {tmp_path}" in result.err
    (tmp_path / ".maascli.db").write_text("not sqlite")
    result = cli("profiles", "import")
    assert result.code == 1 and "cannot read profiles" in result.err
    assert cli("profiles", "export").code == 2


def test_env_profile(cli: Callable[..., Result], doc37: Any,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    result = cli("env", "users", "whoami")
    assert result.code == 2 and "MAAS_URL" in result.err
    monkeypatch.setenv("MAAS_URL", "http://127.0.0.1:5240/MAAS/")
    monkeypatch.setenv("MAAS_API_KEY", KEY)
    transport = Recorder(json_reply(doc37))
    transport.queue += [json_reply(doc37), text_reply(404, "Not Found"),  # before 3.3
                        json_reply({"username": "admin"})]
    result = cli("env", "users", "whoami", transport=transport)
    assert result.code == 0, result.err
    assert [r.url for r, _ in transport.requests] == [DESCRIBE, API + "/openapi.yaml",
                                                     API + "/users/?op=whoami"]
    transport = Recorder(json_reply({"username": "admin"}))
    assert cli("env", "users", "whoami", transport=transport).code == 0
    assert len(transport.requests) == 1  # the description came from the cache
    assert "env" not in ProfileStore().names()


def test_changed_api_hash_refreshes_the_profile(cli: Callable[..., Result],
                                                store: ProfileStore, doc37: Any) -> None:
    newer = {**doc37, "hash": "f" * 40}
    transport = Recorder(json_reply(newer))
    transport.queue.append(json_reply({"username": "admin"}, headers={
        "X-MAAS-API-Hash": "f" * 40}))
    result = cli("admin", "users", "whoami", transport=transport)
    assert result.code == 0, result.err
    assert [r.url for r, _ in transport.requests] == [API + "/users/?op=whoami", DESCRIBE,
                                                     OPENAPI]
    assert result.err.splitlines() == [
        f"maas-dyn: MAAS at {API[:-7]} changed its API description "
        f"({doc37['hash'][:12]} -> ffffffffffff); refreshing",
        "maas-dyn: profile 'admin' now holds the server's new API description",
    ]
    assert store.load("admin").description["hash"] == "f" * 40
    assert json.loads(result.out) == {"username": "admin"}


def test_profile_without_description_fetches_and_keeps_one(
        cli: Callable[..., Result], store: ProfileStore, doc37: Any) -> None:
    store.save(Profile("bare", API + "/", KEY))
    transport = Recorder(json_reply({"username": "admin"}))
    transport.queue.append(json_reply(doc37))
    assert cli("bare", "users", "whoami", transport=transport).code == 0
    assert store.load("bare").description is not None


# -- private CAs and URLs without a scheme -------------------------------------------------


def test_login_with_cacerts_trusts_a_private_ca(tls_server: Any,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from maas_dyn.cli._common.profiles import ProfileStore
    from maas_dyn.cli.maas import main

    url = tls_server.server.url
    assert main(["login", "lab", url, KEY]) == 1  # the system trust store does not know it
    assert "certificate" in capsys.readouterr().err.lower()
    assert main(["login", "lab", url, KEY, "--cacerts", str(tls_server.ca_pem)]) == 0
    assert ProfileStore().load("lab").verify == str(tls_server.ca_pem.resolve())
    capsys.readouterr()
    assert main(["lab", "users", "whoami"]) == 0  # later commands trust it too
    assert main(["refresh", "lab"]) == 0
    assert ProfileStore().load("lab").verify == str(tls_server.ca_pem.resolve())


@pytest.mark.parametrize(("argv", "message"), [
    (["login", "lab", "region:5240", KEY], "must start with http:// or https://"),
    (["login", "lab", "http://r/MAAS/", KEY, "--cacerts", "/nonexistent.pem"],
     "cannot read the CA certificates"),
    (["login", "lab", "http://r/MAAS/", KEY, "--cacerts", __file__], "no PEM certificate"),
    (["login", "lab", "http://r/MAAS/", KEY, "--cacerts", __file__, "-k"], "not allowed with"),
])
def test_login_usage_errors_are_fast(argv: list[str], message: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from maas_dyn.cli.maas import main

    assert main(argv) == 2
    assert message in capsys.readouterr().err
