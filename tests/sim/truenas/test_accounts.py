"""Users, groups and API keys."""

from __future__ import annotations

from maas_dyn.sim.truenas import TrueNASSimulator

from .conftest import RpcClient

ALICE = {"username": "alice", "full_name": "Alice", "password": "pw1", "group_create": True}


def test_seeded_accounts(admin: RpcClient) -> None:
    names = [u["username"] for u in admin.call("user.query", [], {"order_by": ["uid"]})]
    assert names == ["root", "truenas_admin", "otp_admin"]
    root = admin.call("user.query", [["username", "=", "root"]], {"get": True})
    assert root["builtin"] and root["immutable"] and root["password_disabled"]
    assert admin.call("group.query", [["gid", "=", 544]], {"get": True})["name"] == (
        "builtin_administrators")
    obj = admin.call("user.get_user_obj", {"username": "truenas_admin"})
    assert (obj["pw_uid"], obj["pw_gid"]) == (950, 950) and 544 in obj["grouplist"]
    assert admin.call("user.get_user_obj", {"uid": 0})["pw_name"] == "root"
    assert admin.error("user.get_user_obj", {"username": "ghost"})["data"]["errname"] == "ENOENT"
    group = admin.call("group.get_group_obj", {"groupname": "builtin_administrators"})
    assert sorted(group["gr_mem"]) == ["otp_admin", "truenas_admin"]
    assert admin.error("group.get_group_obj", {"gid": 12345})["data"]["errname"] == "ENOENT"
    assert admin.call("user.has_local_administrator_set_up") is True
    assert admin.error("user.setup_local_administrator", "truenas_admin", "x")["data"][
        "errname"] == "EEXIST"
    assert "/usr/bin/zsh" in admin.call("user.shell_choices")
    assert admin.call("group.has_password_enabled_user", [950]) is True
    assert admin.call("group.has_password_enabled_user", [950], [2]) is False


def test_user_lifecycle(sim: TrueNASSimulator, admin: RpcClient) -> None:
    assert admin.call("user.get_next_uid") == 3001
    user = admin.call("user.create", ALICE)
    assert (user["uid"], user["group"]["bsdgrp_group"]) == (3001, "alice")
    login = RpcClient(sim.url)
    assert login.call("auth.login", "alice", "pw1") is True
    login.close()
    assert admin.call("group.get_next_gid") == 3002
    updated = admin.call("user.update", user["id"], {"username": "alicia", "password": "pw2",
                                                     "groups": [2]})
    assert updated["username"] == "alicia" and updated["groups"] == [2]
    assert admin.call("user.update", user["id"], {"group": 2})["group"]["bsdgrp_gid"] == 544
    admin.call("user.update", user["id"], {"group": user["group"]["id"]})
    login = RpcClient(sim.url)
    assert login.call("auth.login", "alicia", "pw2") is True
    login.close()
    admin.call("user.set_password", {"username": "alicia", "old_password": "pw2",
                                     "new_password": "pw3"})
    wrong = admin.error("user.set_password", {"username": "alicia", "old_password": "nope",
                                              "new_password": "x"})
    assert wrong["data"]["extra"][0][2] == 1
    assert admin.call("user.delete", user["id"]) == user["id"]
    assert admin.call("group.query", [["name", "=", "alice"]]) == []


def test_user_validation(admin: RpcClient) -> None:
    error = admin.error("user.create", {"username": "truenas_admin", "full_name": "x",
                                        "uid": 950, "groups": [99]})
    assert [e[0] for e in error["data"]["extra"]] == [
        "user_create.username", "user_create.uid", "user_create.groups",
        "user_create.password", "user_create.group"]
    error = admin.error("user.create", {"username": "bob", "full_name": "Bob",
                                        "password_disabled": True, "group": 99})
    assert error["data"]["extra"] == [["user_create.group", "Group 99 not found", 2]]
    clash = admin.error("user.create", {"username": "truenas_admin", "full_name": "Bob",
                                        "random_password": True, "group_create": True})
    assert clash["data"]["extra"][-1][0] == "user_create.group_create"
    random = admin.call("user.create", {"username": "bob", "full_name": "Bob",
                                        "random_password": True, "group": 1, "uid": 4000})
    assert random["uid"] == 4000 and len(random["password"]) > 8
    locked = admin.error("user.update", 1, {"username": "toor", "group": 99})
    assert [e[0] for e in locked["data"]["extra"]] == ["user_update.username",
                                                       "user_update.group"]
    assert admin.error("user.delete", 1)["data"]["reason"] == (
        "[EINVAL] Cannot delete a built-in user")


def test_group_lifecycle(sim: TrueNASSimulator, admin: RpcClient) -> None:
    admin.call("core.subscribe", "group.query")
    group_id = admin.call("group.create", {"name": "staff", "users": [2]})
    assert admin.next_event("group.query")["fields"]["users"] == [2]
    assert admin.error("group.create", {"name": "staff", "gid": 950, "users": [99]})["data"][
        "extra"] == [["group_create.name", 'A Group with the name "staff" already exists.', 17],
                     ["group_create.gid", "Gid 950 is already used.", 17],
                     ["group_create.users", "User 99 not found", 2]]
    assert admin.call("group.update", group_id, {"name": "crew", "users": []}) == group_id
    assert admin.call("group.get_instance", group_id)["group"] == "crew"
    assert admin.call("group.delete", group_id) == group_id
    assert admin.error("group.delete", 1)["data"]["errname"] == "EINVAL"
    user = admin.call("user.create", {**ALICE, "username": "carol"})
    busy = admin.error("group.delete", user["group"]["id"])
    assert busy["data"]["errname"] == "EBUSY"
    assert admin.call("group.delete", user["group"]["id"], {"delete_users": True})
    assert admin.call("user.query", [["username", "=", "carol"]]) == []


def test_api_keys(sim: TrueNASSimulator, admin: RpcClient) -> None:
    created = admin.call("api_key.create", {"name": "ci", "username": "truenas_admin"})
    assert created["key"].startswith(f"{created['id']}-")
    assert "key" not in admin.call("api_key.get_instance", created["id"])
    assert [k["name"] for k in admin.call("api_key.my_keys")] == ["maas-dyn-sim", "ci"]
    fresh = RpcClient(sim.url)
    assert fresh.call("auth.login_with_api_key", created["key"]) is True
    fresh.close()
    reset = admin.call("api_key.update", created["id"], {"name": "ci2", "reset": True})
    assert reset["name"] == "ci2" and reset["key"] != created["key"]
    stale = RpcClient(sim.url)
    assert stale.call("auth.login_with_api_key", created["key"]) is False
    stale.close()
    assert admin.call("api_key.update", created["id"], {"name": "ci3"})["name"] == "ci3"
    assert admin.call("api_key.delete", created["id"]) is True
    missing = admin.error("api_key.create", {"name": "x", "username": "ghost"})
    assert missing["data"]["extra"] == [["api_key_create.username",
                                         "ghost: user does not exist.", 2]]
