"""File storage and IP address reservations."""

from __future__ import annotations

import base64

import requests

from maas_dyn.sim.maas import MAASSimulator

from .conftest import Api


def test_file_storage(sim: MAASSimulator, api: Api, user_api: Api, anon: Api) -> None:
    upload = api.session.post(api.base + "files/", files={"filename": (None, "cloud.yaml"),
                                                          "file": ("file", b"\x00data")},
                              timeout=10)
    assert upload.status_code == 201
    listed = api.get("files/").json()
    assert [f["filename"] for f in listed] == ["cloud.yaml"]
    assert api.get("files/", params={"prefix": "zzz"}).json() == []
    anon_uri = listed[0]["anon_resource_uri"]
    assert anon_uri.startswith("/MAAS/api/2.0/files/?op=get_by_key&key=")
    origin = sim.url.removesuffix("/MAAS/")
    anonymous = requests.get(origin + anon_uri, timeout=10)
    assert anonymous.status_code == 200 and anonymous.content == b"\x00data"
    assert anonymous.headers["Content-Type"] == "application/octet-stream"
    assert api.get("files/", op="get", params={"filename": "cloud.yaml"}).content == b"\x00data"
    assert api.get("files/", op="get", params={"filename": "nope"}).status_code == 404
    document = api.get("files/cloud.yaml/").json()
    assert base64.b64decode(document["content"]) == b"\x00data"
    missing = user_api.get("files/cloud.yaml/")
    assert missing.status_code == 404 and missing.headers["Workaround"] == "bug1123986"
    assert anon.get("files/", op="get_by_key", params={"key": "nope"}).status_code == 404
    assert api.post("files/", data={"filename": "x"}).text == "File not supplied"
    assert api.post("files/").text == "Filename not supplied"
    two = api.session.post(api.base + "files/", files={"filename": (None, "x"),
                                                       "a": ("a", b"1"), "b": ("b", b"2")},
                           timeout=10)
    assert two.text == "Exactly one file must be supplied"
    assert api.delete("files/cloud.yaml/").status_code == 204
    assert api.delete("files/cloud.yaml/").status_code == 404
    api.session.post(api.base + "files/", files={"filename": (None, "b"),
                                                 "file": ("file", b"x")}, timeout=10)
    assert api.delete("files/", params={"filename": "b"}).status_code == 204


def test_ip_reservations(api: Api, user_api: Api) -> None:
    given = user_api.post("ipaddresses/", op="reserve", data={"ip": "10.100.0.77",
                                                             "hostname": "printer"})
    assert given.status_code == 200, given.text
    body = given.json()
    assert body["alloc_type"] == 4 and body["subnet"]["cidr"] == "10.100.0.0/24"
    assert body["owner"]["username"] == "alice"
    taken = api.post("ipaddresses/", op="reserve", data={"ip": "10.100.0.77"})
    assert taken.status_code == 404
    picked = api.post("ipaddresses/", op="reserve", data={"subnet": "2"}).json()
    assert picked["ip"].startswith("10.100.0.")
    assert api.post("ipaddresses/", op="reserve").text == "Either subnet or ip must be specified."
    assert api.post("ipaddresses/", op="reserve", data={"subnet": "99"}).status_code == 400
    assert api.post("ipaddresses/", op="reserve", data={"subnet": "2", "ip": "10.0.0.50"}
                    ).status_code == 400
    assert api.post("ipaddresses/", op="reserve", data={"ip": "8.8.8.8"}).status_code == 400
    assert api.post("ipaddresses/", op="reserve", data={"subnet": "2", "mac_address": "zz"}
                    ).status_code == 400
    assert [r["ip"] for r in user_api.get("ipaddresses/").json()] == ["10.100.0.77"]
    assert len(api.get("ipaddresses/", params={"all": "true"}).json()) == 2
    assert [r["ip"] for r in api.get("ipaddresses/", params={"owner": "alice"}).json()] == [
        "10.100.0.77"
    ]
    assert api.post("ipaddresses/", op="release", data={"ip": "10.100.0.77"}).status_code == 400
    assert user_api.post("ipaddresses/", op="release",
                         data={"ip": "10.100.0.77"}).status_code == 204
    assert api.post("ipaddresses/", op="release", data={"ip": picked["ip"],
                                                        "force": "true"}).status_code == 204
    stats = api.get("subnets/2/", op="statistics").json()
    assert stats["num_unavailable"] == 1
