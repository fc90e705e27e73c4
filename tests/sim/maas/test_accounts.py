"""Users, API tokens and SSH keys."""

from __future__ import annotations

from maas_dyn.sim.maas import MAASSimulator

from .conftest import Api


def test_users(sim: MAASSimulator, api: Api) -> None:
    assert [u["username"] for u in api.get("users/").json()] == ["admin"]
    created = api.post("users/", data={"username": "bob", "email": "bob@example.com",
                                       "password": "pw", "is_superuser": "0"})
    assert created.json() == {"is_superuser": False, "username": "bob",
                              "email": "bob@example.com", "is_local": True,
                              "resource_uri": "/MAAS/api/2.0/users/bob/"}
    missing = api.post("users/", data={"username": "carol"})
    assert missing.status_code == 400 and missing.text == "No provided email!"
    bad_flag = api.post("users/", data={"username": "c", "email": "e", "password": "p",
                                        "is_superuser": "maybe"})
    assert bad_flag.status_code == 400
    assert api.post("users/", data={"username": "bob", "email": "e", "password": "p",
                                    "is_superuser": "1"}).status_code == 400
    assert api.get("users/bob/").json()["email"] == "bob@example.com"
    assert api.get("users/nobody/").status_code == 404
    assert api.delete("users/admin/").text == "An administrator cannot self-delete."
    assert api.delete("users/bob/").status_code == 204
    assert api.delete("users/bob/").status_code == 204  # already gone is fine
    with_key = sim.add_user("dave")
    dave = Api(sim, with_key)
    try:
        assert dave.get("users/", op="whoami").json()["username"] == "dave"
    finally:
        dave.close()


def test_deleting_a_user_with_machines(api: Api, user_api: Api) -> None:
    ready = api.get("machines/", params={"status": "ready"}).json()[0]["system_id"]
    user_api.post(f"machines/{ready}/", op="deploy")
    refused = api.delete("users/alice/")
    assert refused.status_code == 400 and "cannot be deleted" in refused.text
    assert api.delete("users/alice/", params={"transfer_resources_to": "ghost"}).status_code == \
        404
    assert api.delete("users/alice/", params={"transfer_resources_to": "admin"}).status_code == \
        204
    assert api.get(f"machines/{ready}/").json()["owner"] == "admin"
    assert user_api.get("users/", op="whoami").status_code == 401


def test_add_user_twice_is_an_error(sim: MAASSimulator) -> None:
    sim.add_user("erin", admin=True)
    import pytest

    with pytest.raises(ValueError, match="exists"):
        sim.add_user("erin")


def test_tokens(sim: MAASSimulator, api: Api) -> None:
    listed = api.get("account/", op="list_authorisation_tokens").json()
    assert listed == [{"name": "MAAS consumer", "token": sim.api_key}]
    created = api.post("account/", op="create_authorisation_token", data={"name": "ci"}).json()
    assert set(created) == {"token_key", "token_secret", "consumer_key", "name"}
    key = f"{created['consumer_key']}:{created['token_key']}:{created['token_secret']}"
    second = Api(sim, key)
    try:
        assert second.get("users/", op="whoami").status_code == 200
        renamed = api.post("account/", op="update_token_name",
                           data={"token": key, "name": "ci-2"})
        assert renamed.status_code == 202
        assert {t["name"] for t in api.get("account/", op="list_authorisation_tokens").json()} \
            == {"MAAS consumer", "ci-2"}
        assert api.post("account/", op="update_token_name",
                        data={"token": "nosuch", "name": "x"}).status_code == 404
        assert api.post("account/", op="delete_authorisation_token",
                        data={"token_key": created["token_key"]}).status_code == 204
        assert second.get("users/", op="whoami").status_code == 401
        assert api.post("account/", op="delete_authorisation_token").text == \
            "No provided token_key!"
    finally:
        second.close()


def test_ssh_keys(api: Api, user_api: Api) -> None:
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGx user@host"
    created = api.post("account/prefs/sshkeys/", data={"key": key}).json()
    assert created["key"] == key and created["keysource"] is None
    assert api.post("account/prefs/sshkeys/", data={"key": key}).status_code == 400
    assert api.post("account/prefs/sshkeys/", data={"key": "nonsense"}).status_code == 400
    assert api.post("account/prefs/sshkeys/", data={}).status_code == 400
    assert [k["id"] for k in api.get("account/prefs/sshkeys/").json()] == [created["id"]]
    assert user_api.get("account/prefs/sshkeys/").json() == []
    assert user_api.get(f"account/prefs/sshkeys/{created['id']}/").status_code == 404
    assert api.get(f"account/prefs/sshkeys/{created['id']}/").json()["key"] == key
    imported = api.post("account/prefs/sshkeys/", op="import", data={"keysource": "lp:x"})
    assert imported.status_code == 501
    assert api.delete(f"account/prefs/sshkeys/{created['id']}/").status_code == 204
