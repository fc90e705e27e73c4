"""Fabrics, VLANs (vid path parameter), subnets with statistics, IP ranges, spaces."""

from __future__ import annotations

from .conftest import Api


def test_fabrics_and_vlans(api: Api, user_api: Api) -> None:
    fabrics = api.get("fabrics/").json()
    assert [f["name"] for f in fabrics] == ["fabric-0", "fabric-1"]
    assert fabrics[0]["vlans"][0]["name"] == "untagged"
    created = api.post("fabrics/", data={"name": "storage", "class_type": "10g"})
    assert created.status_code == 200
    fabric = created.json()
    assert fabric["vlans"][0]["vid"] == 0
    assert api.post("fabrics/", data={"name": "storage"}).status_code == 400
    assert user_api.post("fabrics/", data={"name": "x"}).status_code == 403
    vlan = api.post(f"fabrics/{fabric['id']}/vlans/", data={"vid": "42", "name": "data",
                                                           "mtu": "9000", "space": "management"})
    assert vlan.status_code == 200, vlan.text
    assert vlan.json()["vid"] == 42 and vlan.json()["space"] == "management"
    assert api.post(f"fabrics/{fabric['id']}/vlans/", data={"vid": "42"}).json() == {
        "__all__": ["VLAN with this Fabric and Vid already exists."]
    }
    assert api.post(f"fabrics/{fabric['id']}/vlans/", data={"vid": "5000"}).status_code == 400
    assert api.post(f"fabrics/{fabric['id']}/vlans/", data={}).json() == {
        "vid": ["This field is required."]
    }
    read = api.get(f"fabrics/{fabric['id']}/vlans/42/")
    assert read.json()["name"] == "data"
    assert api.get(f"fabrics/{fabric['id']}/vlans/43/").status_code == 404
    assert api.get(f"fabrics/{fabric['id']}/vlans/x/").status_code == 404
    updated = api.put(f"fabrics/{fabric['id']}/vlans/42/", data={"mtu": "1500", "space": ""})
    assert updated.json()["mtu"] == 1500 and updated.json()["space"] == "undefined"
    dhcp = api.put(f"fabrics/{fabric['id']}/vlans/42/", data={"dhcp_on": "true"})
    assert dhcp.status_code == 400
    assert len(api.get(f"fabrics/{fabric['id']}/vlans/").json()) == 2
    assert api.put(f"fabrics/{fabric['id']}/", data={"name": "storage-net"}).json()["name"] == \
        "storage-net"
    assert api.get("fabrics/storage-net/").json()["id"] == fabric["id"]
    assert api.delete(f"fabrics/{fabric['id']}/vlans/0/").status_code == 400
    assert api.delete(f"fabrics/{fabric['id']}/vlans/42/").status_code == 204
    assert api.delete(f"fabrics/{fabric['id']}/").status_code == 204
    assert api.delete("fabrics/0/").status_code == 400
    busy = api.delete("fabrics/1/")
    assert busy.status_code == 400 and "still connected" in busy.text


def test_subnets_crud_and_statistics(api: Api) -> None:
    subnets = api.get("subnets/").json()
    assert {s["cidr"] for s in subnets} == {"10.0.0.0/16", "10.100.0.0/24", "192.168.10.0/24"}
    created = api.post("subnets/", data={"cidr": "172.16.5.0/24", "gateway_ip": "172.16.5.1",
                                         "dns_servers": "8.8.8.8 1.1.1.1", "fabric": "fabric-1"})
    assert created.status_code == 200, created.text
    subnet = created.json()
    assert subnet["name"] == "172.16.5.0/24" and subnet["vlan"]["fabric"] == "fabric-1"
    assert subnet["dns_servers"] == ["8.8.8.8", "1.1.1.1"]
    errors = api.post("subnets/", data={"cidr": "172.16.5.0/24", "gateway_ip": "10.0.0.1"})
    assert errors.json() == {
        "cidr": ["Subnet with this Cidr already exists."],
        "gateway_ip": ["Gateway IP must be within CIDR range."],
    }
    assert api.post("subnets/", data={"cidr": "nonsense"}).json() == {
        "cidr": ["Required format: <network>/<prefixlen>."]
    }
    assert api.post("subnets/", data={"cidr": "172.16.6.0/24", "vlan": "999"}).status_code == 400
    by_cidr = api.get("subnets/cidr:172.16.5.0/24/")
    assert by_cidr.status_code == 404  # a slash in the specifier splits the path
    assert api.get(f"subnets/{subnet['id']}/").json()["cidr"] == "172.16.5.0/24"
    assert api.get("subnets/name:172.16.5.0%2F24/").json()["id"] == subnet["id"]
    stats = api.get(f"subnets/{subnet['id']}/", op="statistics").json()
    assert stats["total_addresses"] == 254 and stats["num_unavailable"] == 1
    assert stats["first_address"] == "172.16.5.1" and stats["ip_version"] == 4
    assert stats["largest_available"] == 253
    main = api.get("subnets/1/", op="statistics").json()
    assert main["num_unavailable"] > 254  # dynamic and reserved ranges, gateway, deployments
    unreserved = api.get(f"subnets/{subnet['id']}/", op="unreserved_ip_ranges").json()
    assert unreserved == [{"start": "172.16.5.2", "end": "172.16.5.254", "num_addresses": 253}]
    reserved = api.get("subnets/1/", op="reserved_ip_ranges").json()
    purposes = {p for r in reserved for p in r["purpose"]}
    assert {"gateway-ip", "dynamic", "reserved", "assigned-ip"} <= purposes
    addresses = api.get("subnets/1/", op="ip_addresses").json()
    assert addresses and addresses[0]["node_summary"]["hostname"]
    updated = api.put(f"subnets/{subnet['id']}/", data={"name": "lab", "gateway_ip": "",
                                                       "managed": "false", "vid": "0"})
    assert updated.json()["name"] == "lab" and updated.json()["gateway_ip"] is None
    assert updated.json()["managed"] is False
    assert api.delete(f"subnets/{subnet['id']}/").status_code == 204
    assert api.get(f"subnets/{subnet['id']}/").status_code == 404


def test_ip_ranges(api: Api, user_api: Api) -> None:
    created = api.post("ipranges/", data={"type": "reserved", "start_ip": "10.100.0.50",
                                          "end_ip": "10.100.0.60", "comment": "lab"})
    assert created.status_code == 200, created.text
    iprange = created.json()
    assert iprange["subnet"]["cidr"] == "10.100.0.0/24" and iprange["user"] == "admin"
    overlap = api.post("ipranges/", data={"type": "dynamic", "start_ip": "10.100.0.55",
                                          "end_ip": "10.100.0.70"})
    assert overlap.status_code == 400 and "conflicts" in overlap.text
    backwards = api.post("ipranges/", data={"type": "reserved", "start_ip": "10.100.0.90",
                                            "end_ip": "10.100.0.80"})
    assert backwards.status_code == 400
    outside = api.post("ipranges/", data={"type": "reserved", "start_ip": "10.100.0.90",
                                          "end_ip": "10.100.1.80", "subnet": "2"})
    assert outside.status_code == 400
    nowhere = api.post("ipranges/", data={"type": "reserved", "start_ip": "9.9.9.1",
                                          "end_ip": "9.9.9.2"})
    assert nowhere.json() == {"subnet": ["Could not find an appropriate subnet."]}
    assert api.post("ipranges/", data={"type": "x"}).status_code == 400
    dynamic = user_api.post("ipranges/", data={"type": "dynamic", "start_ip": "10.100.0.100",
                                               "end_ip": "10.100.0.110"})
    assert dynamic.json() == {"type": ["Only administrators can create dynamic IP ranges."]}
    assert api.get(f"ipranges/{iprange['id']}/").json()["comment"] == "lab"
    assert user_api.delete(f"ipranges/{iprange['id']}/").status_code == 400
    updated = api.put(f"ipranges/{iprange['id']}/", data={"end_ip": "10.100.0.65",
                                                          "comment": "bigger"})
    assert updated.json()["end_ip"] == "10.100.0.65"
    assert len(api.get("ipranges/").json()) == 3
    assert api.delete(f"ipranges/{iprange['id']}/").status_code == 204
    assert api.get("ipranges/999/").status_code == 404


def test_spaces(api: Api) -> None:
    spaces = api.get("spaces/").json()
    assert spaces[0]["name"] == "management"
    assert spaces[0]["subnets"][0]["cidr"] == "10.0.0.0/16"
    created = api.post("spaces/", data={"name": "dmz", "description": "edge"}).json()
    assert created["vlans"] == [] and created["resource_uri"].endswith(f"/{created['id']}/")
    assert api.post("spaces/", data={"name": "dmz"}).status_code == 400
    assert api.get("spaces/dmz/").json()["id"] == created["id"]
    assert api.put("spaces/dmz/", data={"name": "edge"}).json()["name"] == "edge"
    assert api.delete("spaces/management/").status_code == 204
    assert api.get("fabrics/0/vlans/0/").json()["space"] == "undefined"
    assert api.get("spaces/management/").status_code == 404
