"""The simulator reads requests and validates forms as a MAAS region does.

Bodies follow Django's multipart parser (python-libmaas sends base64 parts and a
headerless part); hostnames, booleans and integers follow MAAS's validators.
"""

from __future__ import annotations

import base64

import requests

from maas_dyn.maas.formdata import parse_form
from maas_dyn.sim.maas import MAASSimulator
from tests.sim.maas.conftest import Api, ready_machine


def _b64_part(boundary: str, name: str, value: bytes) -> bytes:
    return (
        f"--{boundary}\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: form-data; name="{name}"\r\nMIME-Version: 1.0\r\n'
        'Content-Type: text/plain; charset="utf-8"\r\n\r\n'
    ).encode() + base64.encodebytes(value).replace(b"\n", b"\r\n") + b"\r\n"


def _signed(api: Api, method: str, path: str, body: bytes, boundary: str,
            op: str | None = None) -> requests.Response:
    return api.session.request(
        method, api.base + path, params=[("op", op)] if op else None, data=body,
        headers={"Content-Type": f'multipart/form-data; boundary="{boundary}"'}, timeout=30,
    )


def test_base64_parts_are_decoded_and_headerless_parts_skipped() -> None:
    boundary = "===B=="
    body = (_b64_part(boundary, "hostname", b"qa-renamed") + f"--{boundary}\r\n\r\n".encode()
            + _b64_part(boundary, "comment", "h\u00e9".encode()) + f"--{boundary}--".encode())
    form = parse_form(f'multipart/form-data; boundary="{boundary}"', body)
    assert form.values == {"hostname": ["qa-renamed"], "comment": ["h\u00e9"]}


def test_fields_without_disposition_or_name_are_skipped_and_bad_base64_kept() -> None:
    body = (b"--B\r\nContent-Type: text/plain\r\n\r\norphan\r\n"
            b'--B\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n'
            b'--B\r\nContent-Disposition: form-data; name="x"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\nabc\r\n--B--")
    assert parse_form("multipart/form-data; boundary=B", body).values == {"x": ["abc"]}


def test_request_charset_decodes_fields() -> None:
    body = b'--B\r\nContent-Disposition: form-data; name="d"\r\n\r\n\xe9t\xe9\r\n--B--'
    form = parse_form("multipart/form-data; boundary=B; charset=latin-1", body)
    assert form.values == {"d": ["\u00e9t\u00e9"]}
    assert parse_form("application/x-www-form-urlencoded; charset=latin-1",
                      b"d=%E9").values == {"d": ["\u00e9"]}


def test_libmaas_style_bodies_reach_the_actions(sim: MAASSimulator, api: Api) -> None:
    system_id = ready_machine(api)
    empty = _signed(api, "POST", "machines/", b"--E\r\n\r\n--E--", "E", op="allocate")
    assert empty.status_code == 200, empty.text
    body = _b64_part("R", "hostname", b"qa-renamed2") + b"--R--"
    renamed = _signed(api, "PUT", f"machines/{system_id}/", body, "R")
    assert renamed.status_code == 200 and renamed.json()["hostname"] == "qa-renamed2"


def test_hostnames_follow_maas_validate_hostname(api: Api) -> None:
    system_id = ready_machine(api)
    cases = {
        "qa_x": "Host label cannot contain underscore: 'qa_x'.",
        "qa x": "Label contains disallowed characters: 'qa x'.",
        "a=b": "Label contains disallowed characters: 'a=b'.",
        "-qa": "Label cannot start or end with hyphen: '-qa'.",
    }
    for hostname, message in cases.items():
        answer = api.put(f"machines/{system_id}/", {"hostname": hostname})
        assert answer.status_code == 400 and answer.json() == {"hostname": [message]}
    created = api.post("devices/", data={"hostname": "a_b", "mac_addresses": "52:54:00:12:34:56"})
    assert created.status_code == 400
    assert created.json()["hostname"] == ["Host label cannot contain underscore: 'a_b'."]


def test_deploy_options_use_formencode_wording(api: Api) -> None:
    system_id = ready_machine(api)
    answer = api.post(f"machines/{system_id}/", "deploy", {"bridge_fd": "abc"})
    assert answer.status_code == 400 and answer.text == "Invalid bridge_fd: Please enter an integer value"
    answer = api.post(f"machines/{system_id}/", "deploy", {"bridge_all": "maybe"})
    assert answer.text == "Invalid bridge_all: Value should be 'true' or 'false'"


def test_machine_create_fixes_the_architecture(api: Api) -> None:
    created = api.post("machines/", data={"architecture": "amd64", "mac_addresses": "52:54:00:aa:bb:01",
                                          "power_type": "manual", "commission": "false"})
    assert created.status_code == 200, created.text
    assert created.json()["architecture"] == "amd64/generic"
    twice = api.post("machines/", data={"architecture": "amd64/generic", "subarchitecture": "hwe",
                                        "mac_addresses": "52:54:00:aa:bb:02", "power_type": "manual"})
    assert twice.status_code == 400 and twice.text == "Subarchitecture cannot be specified twice."


def test_duplicate_mac_also_refuses_the_power_type(api: Api) -> None:
    taken = api.get("machines/").json()[0]["interface_set"][0]["mac_address"]
    answer = api.post("machines/", data={"architecture": "amd64/generic", "mac_addresses": taken,
                                         "power_type": "manual"})
    assert answer.status_code == 400
    errors = answer.json()
    assert errors["mac_addresses"] and errors["power_type"] == [
        "Can't set power type to manual without network interfaces"]


def test_overlapping_subnets_are_refused_for_the_whole_form(api: Api) -> None:
    cidr = api.get("subnets/").json()[0]["cidr"]
    answer = api.post("subnets/", data={"cidr": cidr})
    assert answer.status_code == 400
    assert answer.json()["cidr"] == ["Subnet with this Cidr already exists."]
    assert answer.json()["__all__"] == [f"Subnet {cidr} would overlap with existing subnets."]


def test_power_types_and_boot_resources_match_37(api: Api) -> None:
    drivers = api.get("rackcontrollers/", "describe_power_types").json()
    assert len(drivers) == 24 and {"nova", "lxd", "webhook", "proxmox"} <= {d["name"] for d in drivers}
    assert all("last_deployed" in r for r in api.get("boot-resources/").json())


def test_client_decode_fields_reads_bodies_as_the_region() -> None:
    # The stubber and cassette matcher use the same parser as the simulator.
    from maas_dyn.maas.encode import decode_fields, encode_request

    body = _b64_part("Q", "hostname", b"qa") + b'--Q\r\nContent-Disposition: form-data; ' \
        b'name="f"; filename="f"\r\n\r\n\x00\x01\r\n--Q--'
    op, pairs = decode_fields("http://h/MAAS/api/2.0/machines/?op=allocate",
                              {"Content-Type": "multipart/form-data; boundary=Q"}, body)
    assert op == "allocate" and pairs == [("hostname", "qa"), ("f", b"\x00\x01")]
    prepared = encode_request("POST", "http://h/MAAS/api/2.0/tags/", None,
                              [("name", "t"), ("comment", "c")])
    assert decode_fields(prepared.url, prepared.headers, prepared.body)[1] == [
        ("name", "t"), ("comment", "c")]
