"""``user.*`` and ``group.*``: local accounts.

Business rules follow the middleware's account plugin where a client can notice them:
unique names and ids, a primary group that exists (or ``group_create``), a password unless
``password_disabled``/``random_password``, built-in accounts cannot be deleted, and
validation errors are named ``user_create.<field>`` / ``group_update.<field>``.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import secrets
from datetime import datetime, timezone
from typing import Any

from maas_dyn.sim.truenas.exceptions import CallError, ValidationErrors
from maas_dyn.sim.truenas.registry import Call, MethodTable
from maas_dyn.sim.truenas.services.crud import Resource
from maas_dyn.sim.truenas.state import State

__all__ = ["find_group", "find_user", "make_group", "make_user", "methods", "user_object"]

methods = MethodTable()
users = Resource("user", "User")
groups = Resource("group", "Group")
users.register(methods, "user")
groups.register(methods, "group")

FIRST_UID = 3000
FIRST_GID = 3000
_SHELLS = {"/usr/bin/zsh": "zsh", "/usr/bin/bash": "bash", "/usr/bin/sh": "sh",
           "/usr/sbin/nologin": "nologin"}
_USER_FIELDS = ("username", "home", "shell", "full_name", "smb", "userns_idmap",
                "password_disabled", "ssh_password_enabled", "sshpubkey", "locked",
                "sudo_commands", "sudo_commands_nopasswd", "email")
_GROUP_FIELDS = ("name", "sudo_commands", "sudo_commands_nopasswd", "smb", "userns_idmap")


def find_user(state: State, username: str) -> dict[str, Any] | None:
    """Find a user by name.

    Args:
        state: The state.
        username: The name.

    Returns:
        A copy of the record, or ``None``.
    """
    with state.lock:
        found = next((u for u in state.tables["user"].values() if u["username"] == username),
                     None)
        return copy.deepcopy(found)


def find_group(state: State, *, name: str | None = None, gid: int | None = None
               ) -> dict[str, Any] | None:
    """Find a group by name or gid.

    Args:
        state: The state.
        name: Group name.
        gid: Group id.

    Returns:
        A copy of the record, or ``None``.
    """
    with state.lock:
        found = next((g for g in state.tables["group"].values()
                      if (name is not None and g["group"] == name)
                      or (gid is not None and g["gid"] == gid)), None)
        return copy.deepcopy(found)


def _unixhash(password: str | None) -> str:
    if not password:
        return "*"
    salt = secrets.token_hex(8)
    return f"$6${salt}${hashlib.sha512((salt + password).encode()).hexdigest()[:86]}"


def make_group(state: State, name: str, gid: int, *, builtin: bool = False,
               roles: list[str] | None = None) -> dict[str, Any]:
    """Create and store a group record.

    Args:
        state: The state.
        name: Group name.
        gid: Group id.
        builtin: A built-in group (immutable).
        roles: Roles granted to members.

    Returns:
        The stored record.
    """
    group_id = state.next_id("group")
    record = state.record("group", id=group_id, gid=gid, name=name, group=name,
                          builtin=builtin, immutable=builtin, local=True, smb=not builtin,
                          sid=None, roles=list(roles or []), users=[], sudo_commands=[],
                          sudo_commands_nopasswd=[], userns_idmap=None)
    with state.lock:
        state.tables["group"][group_id] = record
    return record


def make_user(state: State, username: str, uid: int, group: dict[str, Any], *,
              password: str | None, full_name: str, builtin: bool = False,
              roles: list[str] | None = None, extra_groups: list[int] | None = None,
              home: str = "/var/empty", shell: str = "/usr/bin/zsh",
              fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """Create and store a user record (and its password).

    Args:
        state: The state.
        username: Login name.
        uid: User id.
        group: The primary group's record.
        password: Password, or ``None`` for a password-less account.
        full_name: Full name.
        builtin: A built-in account (cannot be deleted).
        roles: Roles of the account.
        extra_groups: Ids of auxiliary groups.
        home: Home directory.
        shell: Login shell.
        fields: Further record fields from ``user.create``.

    Returns:
        The stored record.
    """
    user_id = state.next_id("user")
    values: dict[str, Any] = dict(
        id=user_id, uid=uid, username=username, unixhash=_unixhash(password),
        smbhash="*", home=home, shell=shell, full_name=full_name, builtin=builtin,
        smb=not builtin, userns_idmap=None,
        group={"id": group["id"], "bsdgrp_gid": group["gid"], "bsdgrp_group": group["group"]},
        groups=list(extra_groups or []), password_disabled=password is None,
        ssh_password_enabled=False, sshpubkey=None, locked=False, sudo_commands=[],
        sudo_commands_nopasswd=[], email=None, local=True, immutable=builtin,
        twofactor_auth_configured=False, sid=None,
        last_password_change=datetime.now(timezone.utc) if password else None,
        password_age=0 if password else None, password_history=None,
        password_change_required=False, roles=list(roles or []), api_keys=[])
    values.update(fields or {})
    record = state.record("user", **values)
    with state.lock:
        state.tables["user"][user_id] = record
        if password is not None:
            state.passwords[username] = password
    return record


def user_object(state: State, user: dict[str, Any], *, with_privilege: bool = False
                ) -> dict[str, Any]:
    """Describe a user as ``user.get_user_obj`` (or ``auth.me``) does.

    Args:
        state: The state.
        user: The user record.
        with_privilege: Add the ``auth.me`` keys (privilege, attributes, 2FA config).

    Returns:
        The object.
    """
    grouplist = [user["group"]["bsdgrp_gid"]]
    with state.lock:
        grouplist += [g["gid"] for g in state.tables["group"].values() if g["id"] in user["groups"]]
        twofactor = user["username"] in state.otp_secrets
    fields: dict[str, Any] = {
        "pw_name": user["username"], "pw_gecos": user["full_name"], "pw_dir": user["home"],
        "pw_shell": user["shell"], "pw_uid": user["uid"], "pw_gid": user["group"]["bsdgrp_gid"],
        "grouplist": grouplist, "sid": None, "source": "LOCAL", "local": True,
    }
    if not with_privilege:
        return state.result("user.get_user_obj", **fields)
    roles = set(user["roles"])
    fields.update(
        attributes={},
        two_factor_config={"secret_configured": twofactor, "interval": 30, "otp_digits": 6},
        privilege={"roles": roles, "allowlist": [{"method": "*", "resource": "*"}],
                   "web_shell": "FULL_ADMIN" in roles},
        account_attributes=["LOCAL", "SYS_ADMIN"] + (["2FA"] if twofactor else []),
    )
    return state.result("auth.me", **fields)


def _next_free(used: set[int], first: int) -> int:
    candidate = first
    while candidate in used:  # bounded: ``used`` is finite
        candidate += 1
    return candidate


def _check_user(call: Call, schema: str, data: dict[str, Any], user_id: int | None
                ) -> ValidationErrors:
    verrors = ValidationErrors()
    others = [u for u in call.rt.state.rows("user") if u["id"] != user_id]
    if "username" in data and any(u["username"] == data["username"] for u in others):
        verrors.add(f"{schema}.username",
                    f'A user with the username "{data["username"]}" already exists.',
                    errno.EEXIST)
    if data.get("uid") is not None and any(u["uid"] == data["uid"] for u in others):
        verrors.add(f"{schema}.uid", f"Uid {data['uid']} is already used.", errno.EEXIST)
    for gid_key in ("groups",):
        for group_id in data.get(gid_key) or []:
            if group_id not in call.rt.state.tables["group"]:
                verrors.add(f"{schema}.{gid_key}", f"Group {group_id} not found", errno.ENOENT)
    return verrors


@methods.method("user.create")
def user_create(call: Call) -> dict[str, Any]:
    """Answer ``user.create(data)``."""
    data = call.args[0]
    state = call.rt.state
    verrors = _check_user(call, "user_create", data, None)
    password = data.get("password")
    if data.get("random_password"):
        password = secrets.token_urlsafe(12)
    if not password and not data.get("password_disabled"):
        verrors.add("user_create.password",
                    "Password is required if `password_disabled` is false.")
    if data.get("group") is None and not data.get("group_create"):
        verrors.add("user_create.group",
                    "Enter either a group name or create a new group to continue.")
    elif data.get("group") is not None and data["group"] not in state.tables["group"]:
        verrors.add("user_create.group", f"Group {data['group']} not found", errno.ENOENT)
    if data.get("group_create") and find_group(state, name=data["username"]):
        verrors.add("user_create.group_create",
                    f'Group "{data["username"]}" already exists.', errno.EEXIST)
    verrors.check()
    with state.lock:
        uid = data.get("uid")
        if uid is None:
            uid = _next_free({u["uid"] for u in state.tables["user"].values()}, FIRST_UID)
        if data.get("group_create"):
            gid = _next_free({g["gid"] for g in state.tables["group"].values()}, uid)
            group = make_group(state, data["username"], gid)
            call.publish("group.query", "ADDED", group["id"], copy.deepcopy(group))
        else:
            group = copy.deepcopy(state.tables["group"][data["group"]])
        fields = {key: data[key] for key in _USER_FIELDS if key in data and key not in (
            "username", "home", "shell", "full_name")}
        record = make_user(state, data["username"], uid, group,
                           password=None if data.get("password_disabled") else password,
                           full_name=data["full_name"], extra_groups=data.get("groups"),
                           home=data["home"], shell=data["shell"], fields=fields)
    call.publish("user.query", "ADDED", record["id"], copy.deepcopy(record))
    reply = copy.deepcopy(record)
    if data.get("random_password"):
        reply["password"] = password
    return reply


@methods.method("user.update")
def user_update(call: Call) -> dict[str, Any]:
    """Answer ``user.update(id, data)``."""
    user_id, data = call.args[0], call.args[1]
    record = users.find(call, user_id)
    verrors = _check_user(call, "user_update", data, user_id)
    if record["immutable"] and "username" in data and data["username"] != record["username"]:
        verrors.add("user_update.username", "This attribute cannot be changed")
    if data.get("group") is not None and data["group"] not in call.rt.state.tables["group"]:
        verrors.add("user_update.group", f"Group {data['group']} not found", errno.ENOENT)
    verrors.check()
    state = call.rt.state
    with state.lock:
        old_name = record["username"]
        record.update({key: data[key] for key in _USER_FIELDS if key in data})
        if "groups" in data:
            record["groups"] = list(data["groups"])
        if data.get("group") is not None:
            group = state.tables["group"][data["group"]]
            record["group"] = {"id": group["id"], "bsdgrp_gid": group["gid"],
                               "bsdgrp_group": group["group"]}
        password = state.passwords.pop(old_name, None)
        if data.get("password"):
            password = data["password"]
            record["unixhash"] = _unixhash(password)
            record["last_password_change"] = datetime.now(timezone.utc)
        if password is not None and not record["password_disabled"]:
            state.passwords[record["username"]] = password
        if old_name in state.otp_secrets:
            state.otp_secrets[record["username"]] = state.otp_secrets.pop(old_name)
    return users.store(call, user_id, record)


@methods.method("user.delete")
def user_delete(call: Call) -> int:
    """Answer ``user.delete(id, options)``."""
    user_id = call.args[0]
    options = call.arg(1) or {}
    record = users.find(call, user_id)
    if record["builtin"]:
        raise CallError("Cannot delete a built-in user", errno.EINVAL)
    users.remove(call, user_id)
    state = call.rt.state
    with state.lock:
        state.passwords.pop(record["username"], None)
        state.otp_secrets.pop(record["username"], None)
        primary = record["group"]["id"]
        shared = any(u["group"]["id"] == primary for u in state.tables["user"].values())
        group = state.tables["group"].get(primary)
        drop_group = (options.get("delete_group", True) and group is not None
                      and not group["builtin"] and not shared)
    if drop_group:
        groups.remove(call, primary)
    return int(user_id)


@methods.method("user.get_next_uid")
def user_get_next_uid(call: Call) -> int:
    """Answer ``user.get_next_uid()``."""
    return _next_free({u["uid"] for u in call.rt.state.rows("user")}, FIRST_UID)


@methods.method("user.get_user_obj")
def user_get_user_obj(call: Call) -> dict[str, Any]:
    """Answer ``user.get_user_obj({username | uid, ...})``."""
    query = call.args[0]
    user = next((u for u in call.rt.state.rows("user")
                 if u["username"] == query.get("username") or u["uid"] == query.get("uid")),
                None)
    if user is None:
        wanted = query.get("username") or query.get("uid")
        raise CallError(f"{wanted}: user does not exist", errno.ENOENT)
    return user_object(call.rt.state, user)


@methods.method("user.set_password")
def user_set_password(call: Call) -> None:
    """Answer ``user.set_password({username, old_password, new_password})``."""
    data = call.args[0]
    state = call.rt.state
    user = find_user(state, data["username"])
    if user is None or (data.get("old_password") is not None
                        and state.passwords.get(user["username"]) != data["old_password"]):
        raise ValidationErrors([("user.set_password.old_password",
                                 "Failed to validate old password.", errno.EPERM)])
    with state.lock:
        state.passwords[user["username"]] = data["new_password"]


@methods.method("user.shell_choices")
def user_shell_choices(call: Call) -> dict[str, str]:
    """Answer ``user.shell_choices(group_ids)``."""
    return dict(_SHELLS)


@methods.method("user.has_local_administrator_set_up")
def user_has_local_administrator_set_up(call: Call) -> bool:
    """Answer ``user.has_local_administrator_set_up()``; the simulator ships one."""
    return True


@methods.method("user.setup_local_administrator")
def user_setup_local_administrator(call: Call) -> None:
    """Answer ``user.setup_local_administrator``: refused, an administrator exists."""
    raise CallError("Local administrator is already set up", errno.EEXIST)


def _check_group(call: Call, schema: str, data: dict[str, Any], group_id: int | None
                 ) -> None:
    verrors = ValidationErrors()
    others = [g for g in call.rt.state.rows("group") if g["id"] != group_id]
    if "name" in data and any(g["group"] == data["name"] for g in others):
        verrors.add(f"{schema}.name", f'A Group with the name "{data["name"]}" already exists.',
                    errno.EEXIST)
    if data.get("gid") is not None and any(g["gid"] == data["gid"] for g in others):
        verrors.add(f"{schema}.gid", f"Gid {data['gid']} is already used.", errno.EEXIST)
    for user_id in data.get("users") or []:
        if user_id not in call.rt.state.tables["user"]:
            verrors.add(f"{schema}.users", f"User {user_id} not found", errno.ENOENT)
    verrors.check()


@methods.method("group.create")
def group_create(call: Call) -> int:
    """Answer ``group.create(data)`` with the new group's id."""
    data = call.args[0]
    _check_group(call, "group_create", data, None)
    state = call.rt.state
    with state.lock:
        gid = data.get("gid")
        if gid is None:
            gid = _next_free({g["gid"] for g in state.tables["group"].values()}, FIRST_GID)
        record = make_group(state, data["name"], gid)
        record.update({key: data[key] for key in _GROUP_FIELDS if key in data and key != "name"})
        record["users"] = list(data.get("users") or [])
    groups.store(call, record["id"], record)
    return int(record["id"])


@methods.method("group.update")
def group_update(call: Call) -> int:
    """Answer ``group.update(id, data)`` with the group's id."""
    group_id, data = call.args[0], call.args[1]
    record = groups.find(call, group_id)
    _check_group(call, "group_update", data, group_id)
    record.update({key: data[key] for key in _GROUP_FIELDS if key in data})
    if "name" in data:
        record["group"] = data["name"]
    if "users" in data:
        record["users"] = list(data["users"])
    groups.store(call, group_id, record)
    return int(group_id)


@methods.method("group.delete")
def group_delete(call: Call) -> int:
    """Answer ``group.delete(id, options)``."""
    group_id = call.args[0]
    record = groups.find(call, group_id)
    if record["builtin"]:
        raise CallError("A built-in group cannot be deleted.", errno.EINVAL)
    members = [u for u in call.rt.state.rows("user") if u["group"]["id"] == group_id]
    if members and not (call.args[1] or {}).get("delete_users"):
        raise CallError(f"Group {record['group']} is the primary group of "
                        f"{', '.join(u['username'] for u in members)}", errno.EBUSY)
    for member in members:
        users.remove(call, member["id"])
    groups.remove(call, group_id)
    return int(group_id)


@methods.method("group.get_next_gid")
def group_get_next_gid(call: Call) -> int:
    """Answer ``group.get_next_gid()``."""
    return _next_free({g["gid"] for g in call.rt.state.rows("group")}, FIRST_GID)


@methods.method("group.get_group_obj")
def group_get_group_obj(call: Call) -> dict[str, Any]:
    """Answer ``group.get_group_obj({groupname | gid})``."""
    query = call.args[0]
    state = call.rt.state
    group = find_group(state, name=query.get("groupname"), gid=query.get("gid"))
    if group is None:
        wanted = query.get("groupname") or query.get("gid")
        raise CallError(f"{wanted}: group does not exist", errno.ENOENT)
    members = [u["username"] for u in state.rows("user")
               if u["group"]["id"] == group["id"] or group["id"] in u["groups"]]
    return state.result("group.get_group_obj", gr_name=group["group"], gr_gid=group["gid"],
                        gr_mem=members, sid=None, source="LOCAL", local=True)


@methods.method("group.has_password_enabled_user")
def group_has_password_enabled_user(call: Call) -> bool:
    """Answer ``group.has_password_enabled_user(gids, exclude_user_ids)``."""
    gids, excluded = call.args[0], call.args[1]
    return any(not u["password_disabled"] and u["group"]["bsdgrp_gid"] in gids
               for u in call.rt.state.rows("user") if u["id"] not in excluded)
