"""Version, configuration and the event log with MAAS's paging shape."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from maas_dyn.sim.maas import MAASSimulator

from .conftest import Api, ready_machine


def test_version_matches_release(anon: Api) -> None:
    body = anon.get("version/").json()
    assert body["version"] == "3.7.3"
    assert "networks-management" in body["capabilities"]
    assert body["subversion"] == ""


def test_get_and_set_config(api: Api, user_api: Api) -> None:
    assert api.get("maas/", op="get_config", params={"name": "default_distro_series"}).json() \
        == "noble"
    assert api.post("maas/", op="set_config",
                    data={"name": "maas_name", "value": "lab"}).text == "OK"
    assert user_api.get("maas/", op="get_config", params={"name": "maas_name"}).json() == "lab"
    assert api.post("maas/", op="set_config", data={"name": "enable_analytics",
                                                    "value": "true"}).status_code == 200
    assert api.get("maas/", op="get_config", params={"name": "enable_analytics"}).json() is True
    assert api.post("maas/", op="set_config", data={"name": "enable_analytics",
                                                    "value": "perhaps"}).status_code == 400
    assert api.post("maas/", op="set_config", data={"name": "node_timeout",
                                                    "value": "x"}).json() == {
        "value": ["Enter a whole number."]
    }
    api.post("maas/", op="set_config", data={"name": "node_timeout", "value": "45"})
    assert api.get("maas/", op="get_config", params={"name": "node_timeout"}).json() == 45
    unknown = api.get("maas/", op="get_config", params={"name": "colour"})
    assert unknown.status_code == 400
    assert unknown.json()["name"][0].startswith("colour is not a valid config setting")
    assert api.get("maas/", op="get_config").text == "No provided name!"


def _query(uri: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(uri).query)


def test_events_query_paging(sim: MAASSimulator, api: Api) -> None:
    machine = ready_machine(api)
    for _ in range(3):
        api.post(f"machines/{machine}/", op="mark_broken")
        api.post(f"machines/{machine}/", op="mark_fixed")
    first = api.get("events/", op="query", params={"limit": "4"}).json()
    assert set(first) == {"count", "events", "next_uri", "prev_uri"}
    assert first["count"] == 4
    ids = [e["id"] for e in first["events"]]
    assert ids == sorted(ids, reverse=True)
    assert first["events"][0]["type"] == "Node changed status"
    assert set(first["events"][0]) == {"username", "node", "hostname", "id", "level", "created",
                                       "type", "description"}
    assert first["prev_uri"].startswith("/MAAS/api/2.0/events/?")
    assert _query(first["prev_uri"]) == {"op": ["query"], "limit": ["4"],
                                         "before": [str(ids[-1])]}
    assert _query(first["next_uri"])["after"] == [str(ids[0])]
    older = api.get("events/", op="query", params=_query(first["prev_uri"])).json()
    assert [e["id"] for e in older["events"]] == [ids[-1] - 1, ids[-1] - 2]
    exhausted = api.get("events/", op="query", params={"before": "1"}).json()
    assert exhausted["count"] == 0 and _query(exhausted["next_uri"])["after"] == ["0"]
    newer = api.get("events/", op="query", params={"after": str(ids[0])}).json()
    assert newer["count"] == 0 and newer["prev_uri"].endswith(f"before={ids[0] + 1}")
    nothing = api.get("events/", op="query", params={"after": "3", "limit": "2"}).json()
    assert [e["id"] for e in nothing["events"]] == [5, 4]
    for_node = api.get("events/", op="query", params={"id": machine}).json()
    assert {e["node"] for e in for_node["events"]} == {machine}
    assert api.get("events/", op="query", params={"hostname": "nosuch"}).json()["count"] == 0
    assert api.get("events/", op="query", params={"owner": "nobody"}).json()["count"] == 0
    assert api.get("events/", op="query", params={"level": "ERROR"}).json()["count"] == 0
    assert api.get("events/", op="query", params={"level": "debug"}).json()["count"] == 6


def test_events_query_errors(api: Api) -> None:
    assert api.get("events/", op="query", params={"level": "LOUD"}).text == (
        "Unrecognised log level: LOUD"
    )
    assert api.get("events/", op="query", params={"limit": "5000"}).status_code == 400
    assert api.get("events/", op="query", params={"limit": "x"}).status_code == 400
    assert api.get("events/", op="query", params={"limit": "-1"}).status_code == 400
    both = api.get("events/", op="query", params={"before": "5", "after": "1"})
    assert both.status_code == 400
    assert api.get("events/", op="query", params={"zone": "nowhere"}).status_code == 400
