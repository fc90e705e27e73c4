"""Subscriptions and collection_update events: CRUD changes and alerts."""

from __future__ import annotations

import queue

import pytest

from maas_dyn.sim.truenas import TrueNASSimulator

from .conftest import RpcClient

USER = {"username": "alice", "full_name": "Alice", "password": "secret", "group_create": True}


def test_crud_events(sim: TrueNASSimulator, admin: RpcClient) -> None:
    ident = admin.call("core.subscribe", "user.query")
    user = admin.call("user.create", USER)
    added = admin.next_event("user.query")
    assert (added["msg"], added["id"], added["fields"]["username"]) == ("added", user["id"],
                                                                         "alice")
    admin.call("user.update", user["id"], {"full_name": "Alice B"})
    changed = admin.next_event("user.query")
    assert (changed["msg"], changed["fields"]["full_name"]) == ("changed", "Alice B")
    admin.call("user.delete", user["id"])
    removed = admin.next_event("user.query")
    assert removed == {"msg": "removed", "collection": "user.query", "id": user["id"]}
    admin.call("core.unsubscribe", ident)
    admin.call("core.unsubscribe", "not-a-subscription")
    admin.call("user.create", {**USER, "username": "bob"})
    with pytest.raises(queue.Empty):
        admin.next_event("user.query", timeout=0.2)


def test_wildcard_subscription(sim: TrueNASSimulator, admin: RpcClient) -> None:
    admin.call("core.subscribe", "*")
    admin.call("staticroute.create", {"destination": "10.0.0.0/8", "gateway": "192.0.2.1"})
    assert admin.next_event("staticroute.query")["msg"] == "added"


def test_alerts(sim: TrueNASSimulator, admin: RpcClient) -> None:
    admin.call("core.subscribe", "alert.list")
    alert = sim.raise_alert("PoolDegraded", "Pool tank is DEGRADED", "CRITICAL")
    event = admin.next_event("alert.list")
    assert (event["msg"], event["id"], event["fields"]["text"]) == (
        "added", alert["uuid"], "Pool tank is DEGRADED")
    assert [a["uuid"] for a in admin.call("alert.list")] == [alert["uuid"]]
    admin.call("alert.dismiss", alert["uuid"])
    assert admin.next_event("alert.list")["fields"]["dismissed"] is True
    admin.call("alert.restore", alert["uuid"])
    assert admin.next_event("alert.list")["fields"]["dismissed"] is False
    assert admin.error("alert.dismiss", "nope")["data"]["reason"] == (
        "[EFAULT] Alert 'nope' not found")
    with pytest.raises(ValueError, match="level must be one of"):
        sim.raise_alert("X", "y", "LOUD")


def test_subscribing_needs_a_login(client: RpcClient) -> None:
    assert client.error("core.subscribe", "alert.list")["data"]["errname"] == (
        "ENOTAUTHENTICATED")


def test_events_are_not_sent_to_other_names(sim: TrueNASSimulator, admin: RpcClient) -> None:
    admin.call("core.subscribe", "group.query")
    sim.raise_alert("X", "ignored")
    admin.call("group.create", {"name": "staff"})
    assert admin.next_event("group.query")["fields"]["name"] == "staff"
    assert admin.notifications.empty()
