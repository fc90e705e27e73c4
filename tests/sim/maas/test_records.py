"""Simple record kinds: static routes, package repositories, SSL keys, notifications."""

from __future__ import annotations

from .conftest import Api

CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_static_routes(api: Api, user_api: Api) -> None:
    created = api.post("static-routes/", data={"source": "1", "destination": "192.168.10.0/24",
                                               "gateway_ip": "10.0.0.254", "metric": "5"})
    assert created.status_code == 200, created.text
    route = created.json()
    assert route["source"]["cidr"] == "10.0.0.0/16" and route["metric"] == 5
    assert route["resource_uri"] == f"/MAAS/api/2.0/static-routes/{route['id']}/"
    outside = api.post("static-routes/", data={"source": "1", "destination": "3",
                                               "gateway_ip": "192.168.10.1"})
    assert outside.json() == {"gateway_ip": ["Gateway IP must be in the source subnet."]}
    assert api.post("static-routes/", data={"source": "1", "destination": "3",
                                            "gateway_ip": "x"}).status_code == 400
    assert api.post("static-routes/", data={"source": "99"}).json() == {
        "source": ["Select a valid choice. 99 is not one of the available choices."],
        "destination": ["This field is required."],
        "gateway_ip": ["This field is required."],
    }
    assert user_api.post("static-routes/", data={}).status_code == 403
    url = f"static-routes/{route['id']}/"
    assert api.put(url, data={"metric": "7"}).json()["metric"] == 7
    assert user_api.get(url).json()["gateway_ip"] == "10.0.0.254"
    assert len(api.get("static-routes/").json()) == 1
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_package_repositories(api: Api) -> None:
    names = [r["name"] for r in api.get("package-repositories/").json()]
    assert names == ["main_archive", "ports_archive"]
    created = api.post("package-repositories/", data={
        "name": "ppa", "url": "http://ppa/", "arches": ["amd64", "arm64"],
        "components": "main,universe", "enabled": "false",
    }).json()
    assert created["arches"] == ["amd64", "arm64"] and created["components"] == ["main",
                                                                                  "universe"]
    assert created["enabled"] is False and created["disable_sources"] is True
    assert api.post("package-repositories/", data={"name": "ppa", "url": "u"}).json() == {
        "name": ["PackageRepository with this Name already exists."]
    }
    url = f"package-repositories/{created['id']}/"
    assert api.put(url, data={"name": "ppa"}).status_code == 200
    assert api.put(url, data={"url": "http://other/"}).json()["url"] == "http://other/"


def test_ssl_keys_are_per_user(api: Api, user_api: Api) -> None:
    created = user_api.post("account/prefs/sslkeys/", data={"key": CERT})
    assert created.status_code == 200, created.text
    key = created.json()
    assert set(key) == {"id", "key", "resource_uri"}
    assert user_api.post("account/prefs/sslkeys/", data={"key": "nope"}).json() == {
        "key": ["Invalid SSL key."]
    }
    assert api.get("account/prefs/sslkeys/").json() == []
    assert api.get(f"account/prefs/sslkeys/{key['id']}/").status_code == 404
    assert user_api.get(f"account/prefs/sslkeys/{key['id']}/").json()["key"] == CERT
    assert user_api.delete(f"account/prefs/sslkeys/{key['id']}/").status_code == 204


def test_notifications_relevance_and_dismissal(api: Api, user_api: Api) -> None:
    for_users = api.post("notifications/", data={"message": "hello users", "users": "true",
                                                 "category": "warning"}).json()
    for_admins = api.post("notifications/", data={"message": "admins only", "admins": "1",
                                                  "context": '{"k": 1}'}).json()
    for_alice = api.post("notifications/", data={"message": "hi alice", "user": "alice"}).json()
    assert for_alice["user"]["username"] == "alice"
    assert for_admins["context"] == {"k": 1}
    assert [n["id"] for n in user_api.get("notifications/").json()] == [for_users["id"],
                                                                       for_alice["id"]]
    assert [n["id"] for n in api.get("notifications/").json()] == [for_admins["id"]]
    assert user_api.get(f"notifications/{for_admins['id']}/").status_code == 403
    assert api.get(f"notifications/{for_users['id']}/").status_code == 200
    dismissed = user_api.post(f"notifications/{for_users['id']}/", op="dismiss")
    assert dismissed.status_code == 200
    assert user_api.post(f"notifications/{for_users['id']}/", op="dismiss").status_code == 200
    assert [n["id"] for n in user_api.get("notifications/").json()] == [for_alice["id"]]
    assert user_api.post(f"notifications/{for_admins['id']}/", op="dismiss").status_code == 403
    errors = api.post("notifications/", data={"category": "loud", "user": "ghost",
                                              "context": "[1]"}).json()
    assert set(errors) == {"category", "user", "context", "message"}
    assert api.post("notifications/", data={"message": "m", "context": "{bad"}).status_code == 400
    assert api.put(f"notifications/{for_users['id']}/", data={"message": "changed"}).json()[
        "message"] == "changed"
    assert user_api.delete(f"notifications/{for_users['id']}/").status_code == 403
    assert api.delete(f"notifications/{for_users['id']}/").status_code == 204
