"""The machine collection: filters, allocation constraints, enlisting, bulk actions."""

from __future__ import annotations

from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.status import Status

from .conftest import Api, machines_in, ready_machine


def test_machine_document_has_maas_field_names(api: Api) -> None:
    machine = api.get("machines/").json()[0]
    for field in (
        "system_id", "hostname", "fqdn", "status", "status_name", "status_message",
        "power_state", "power_type", "architecture", "cpu_count", "memory", "storage",
        "tag_names", "pool", "zone", "domain", "owner", "locked", "osystem",
        "distro_series", "hwe_kernel", "interface_set", "blockdevice_set", "boot_interface",
        "ip_addresses", "resource_uri", "boot_disk", "physicalblockdevice_set",
    ):
        assert field in machine, field
    assert set(machine["pool"]) >= {"name", "id"}
    assert machine["fqdn"] == f"{machine['hostname']}.maas"
    assert machine["resource_uri"] == f"/MAAS/api/2.0/machines/{machine['system_id']}/"
    assert machine["interface_set"][0]["vlan"]["fabric"] == "fabric-0"


def test_seeded_data_is_deterministic() -> None:
    first = MAASSimulator(machines=20, seed=7)
    second = MAASSimulator(machines=20, seed=7)
    other = MAASSimulator(machines=20, seed=8)
    assert list(first.state.machines) == list(second.state.machines)
    assert first.api_key == second.api_key
    assert list(first.state.machines) != list(other.state.machines)
    statuses = [m.status for m in first.state.machines.values()][:10]
    assert statuses.count(Status.READY) == 6
    assert {Status.NEW, Status.DEPLOYED, Status.ALLOCATED, Status.BROKEN} <= set(statuses)


def test_filters_repeated_values_are_ored(api: Api) -> None:
    machines = api.get("machines/").json()
    a, b = machines[0], machines[1]
    both = api.get("machines/", params={"hostname": [a["hostname"], b["hostname"]]}).json()
    assert {m["system_id"] for m in both} == {a["system_id"], b["system_id"]}
    by_id = api.get("machines/", params={"id": [a["system_id"]]}).json()
    assert [m["system_id"] for m in by_id] == [a["system_id"]]
    mac = b["interface_set"][0]["mac_address"]
    assert [m["system_id"] for m in api.get("machines/", params={"mac_address": mac}).json()] \
        == [b["system_id"]]


def test_filters_by_status_zone_pool_domain_arch_owner(api: Api) -> None:
    all_machines = api.get("machines/").json()

    def ids(**params: object) -> set[str]:
        response = api.get("machines/", params=params)
        assert response.status_code == 200, response.text
        return {m["system_id"] for m in response.json()}

    def expect(predicate: object) -> set[str]:
        return {m["system_id"] for m in all_machines if predicate(m)}  # type: ignore[operator]

    assert ids(status="ready") == expect(lambda m: m["status_name"] == "Ready")
    assert ids(status=["new", "broken"]) == expect(
        lambda m: m["status_name"] in ("New", "Broken")
    )
    assert ids(not_status="ready") == expect(lambda m: m["status_name"] != "Ready")
    assert ids(simple_status="deployed") == expect(lambda m: m["status_name"] == "Deployed")
    assert ids(zone="zone-east") == expect(lambda m: m["zone"]["name"] == "zone-east")
    assert ids(not_in_zone="zone-east") == expect(lambda m: m["zone"]["name"] != "zone-east")
    assert ids(pool="pool-gpu") == expect(lambda m: m["pool"]["name"] == "pool-gpu")
    assert ids(domain="maas") == expect(lambda m: True)
    assert ids(arch="arm64") == expect(lambda m: m["architecture"].startswith("arm64"))
    assert ids(owner="admin") == expect(lambda m: m["owner"] == "admin")
    assert ids(tags=["virtual", "ssd"]) == expect(
        lambda m: {"virtual", "ssd"} <= set(m["tag_names"])
    )
    assert ids(tags="virtual,ssd") == ids(tags=["virtual", "ssd"])
    assert ids(not_tags="virtual") == expect(lambda m: "virtual" not in m["tag_names"])
    assert ids(cpu_count="32") == expect(lambda m: m["cpu_count"] >= 32)
    assert ids(mem="65536") == expect(lambda m: m["memory"] >= 65536)
    assert ids(fabrics="fabric-1") == expect(
        lambda m: any(i["vlan"]["fabric"] == "fabric-1" for i in m["interface_set"])
    )
    assert ids(power_state="on") == expect(lambda m: m["power_state"] == "on")
    assert ids(agent_name="") == ids()


def test_filter_errors_are_field_errors(api: Api) -> None:
    response = api.get("machines/", params={"tags": "nope", "zone": "nowhere",
                                            "status": "sleeping", "arch": "sparc",
                                            "owner": "ghost", "cpu_count": "many",
                                            "mac_address": "zz"})
    assert response.status_code == 400
    assert response.json() == {
        "tags": ["No such tag(s): 'nope'."],
        "zone": ["No such zone(s): nowhere."],
        "status": ["Select a valid choice. sleeping is not one of the available choices."],
        "arch": ["Architecture not recognised."],
        "owner": ["No such owner: 'ghost'."],
        "cpu_count": ["Invalid cpu_count: must be a number."],
        "mac_address": ["Invalid parameter: invalid MAC address format"],
    }
    pools = api.get("machines/", params={"pool": "nopool"})
    assert pools.json() == {"pool": ["No such pool(s): nopool."]}


def test_non_admin_sees_only_unowned_and_own_machines(api: Api, user_api: Api) -> None:
    everything = api.get("machines/").json()
    visible = user_api.get("machines/").json()
    assert {m["system_id"] for m in visible} == {
        m["system_id"] for m in everything if m["owner"] in (None, "alice")
    }
    owned = next(m for m in everything if m["owner"] == "admin")
    assert user_api.get(f"machines/{owned['system_id']}/").status_code == 404


def test_allocate_constraints(api: Api) -> None:
    ready = machines_in(api, "ready")
    gpu = next(m for m in ready if "gpu" in m["tag_names"])
    allocated = api.post("machines/", op="allocate",
                         data={"tags": "gpu", "name": gpu["hostname"], "agent_name": "juju"})
    assert allocated.status_code == 200, allocated.text
    body = allocated.json()
    assert body["system_id"] == gpu["system_id"]
    assert body["status_name"] == "Allocated" and body["owner"] == "admin"
    assert body["constraints_by_type"] == {}
    again = api.get(f"machines/{gpu['system_id']}/").json()
    assert again["status"] == 10
    assert api.get("machines/", params={"agent_name": "juju"}).json()[0]["system_id"] == \
        gpu["system_id"]
    by_id = api.post("machines/", op="allocate", data={"system_id": ready[-1]["system_id"],
                                                       "dry_run": "true"})
    assert by_id.json()["system_id"] == ready[-1]["system_id"]
    assert by_id.json()["status_name"] == "Ready"  # dry run leaves it alone
    arm = api.post("machines/", op="allocate", data={"arch": "arm64", "cpu_count": "1"})
    assert arm.status_code in (200, 409)


def test_allocate_conflicts_like_maas(api: Api) -> None:
    none = api.post("machines/", op="allocate", data={"cpu_count": "9999"})
    assert none.status_code == 409
    assert none.text.startswith("No available machine matches constraints: ")
    assert 'resolved to "cpu_count=9999.0"' in none.text
    gone = api.post("machines/", op="allocate", data={"system_id": "nosuch"})
    assert gone.status_code == 409
    assert gone.text == "No machine with system ID nosuch available."
    unknown = api.post("machines/", op="allocate", data={"colour": "blue"})
    assert unknown.status_code == 400
    assert unknown.json() == {"colour": ["No such constraint."]}
    storage = api.post("machines/", op="allocate", data={"storage": "root:100"})
    assert storage.status_code == 501


def test_allocate_until_nothing_is_left(api: Api) -> None:
    for _ in machines_in(api, "ready"):
        assert api.post("machines/", op="allocate").status_code == 200
    last = api.post("machines/", op="allocate")
    assert last.status_code == 409
    assert last.text == "No machine available."


def test_create_validates_and_commissions(sim: MAASSimulator, api: Api) -> None:
    bad = api.post("machines/", data={"architecture": "sparc/generic",
                                      "mac_addresses": "nonsense", "domain": "nope",
                                      "power_type": "manual"})
    assert bad.status_code == 400
    errors = bad.json()
    assert errors["architecture"] == [
        "Select a valid choice. sparc/generic is not one of the available choices."
    ]
    assert errors["mac_addresses"] == ["'nonsense' is not a valid MAC address."]
    assert "domain" in errors
    missing = api.post("machines/", data={"hostname": "fresh"})
    assert missing.json() == {"mac_addresses": ["This field is required."]}
    created = api.post("machines/", data={
        "hostname": "fresh", "architecture": "amd64/generic",
        "mac_addresses": ["52:54:00:aa:bb:cc", "52:54:00:aa:bb:cd"], "power_type": "ipmi",
        "power_parameters_power_address": "10.9.9.9", "power_parameters_power_user": "u",
        "power_parameters_power_pass": "p", "zone": "zone-east", "memory": "8G",
    })
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["status_name"] == "Commissioning"
    assert body["memory"] == 8192 and body["zone"]["name"] == "zone-east"
    assert len(body["interface_set"]) == 2
    duplicate = api.post("machines/", data={"hostname": "fresh",
                                            "mac_addresses": "52:54:00:aa:bb:ce"})
    assert duplicate.json() == {"hostname": ["Node with hostname 'fresh' already exists."]}
    reused = api.post("machines/", data={"mac_addresses": "52:54:00:aa:bb:cc"})
    assert reused.json()["mac_addresses"] == [
        "MAC address 52:54:00:aa:bb:cc already in use on fresh."
    ]
    sim.advance(181)
    assert api.get(f"machines/{body['system_id']}/").json()["status_name"] == "Ready"


def test_create_deployed_and_without_commissioning(api: Api, anon: Api) -> None:
    deployed = api.post("machines/", data={"mac_addresses": "52:54:00:0a:0b:01",
                                           "deployed": "true"})
    assert deployed.json()["status_name"] == "Deployed"
    quiet = api.post("machines/", data={"mac_addresses": "52:54:00:0a:0b:02",
                                        "commission": "false"})
    assert quiet.json()["status_name"] == "New"
    enlisted = anon.post("machines/", data={"mac_addresses": "52:54:00:0a:0b:03",
                                            "architecture": "amd64/generic"})
    assert enlisted.status_code == 200
    assert enlisted.json()["status_name"] == "New"
    bad_power = api.post("machines/", data={"mac_addresses": "52:54:00:0a:0b:04",
                                            "power_type": "redfish"})
    assert bad_power.status_code == 400
    assert "power_parameters" in bad_power.json()


def test_accept_and_accept_all(sim: MAASSimulator, api: Api, user_api: Api) -> None:
    new = machines_in(api, "new")
    denied = user_api.post("machines/", op="accept", data={"machines": new[0]["system_id"]})
    assert denied.status_code == 403
    unknown = api.post("machines/", op="accept", data={"machines": "nosuch"})
    assert unknown.status_code == 400 and unknown.text == "Unknown machine(s): nosuch."
    accepted = api.post("machines/", op="accept", data={"machines": new[0]["system_id"]})
    assert [m["status_name"] for m in accepted.json()] == ["Commissioning"]
    # Accepting an already accepted machine is not an error.
    assert api.post("machines/", op="accept",
                    data={"machines": new[0]["system_id"]}).json() == []
    deployed = machines_in(api, "deployed")[0]["system_id"]
    assert api.post("machines/", op="accept", data={"machines": deployed}).status_code == 409
    api.post("machines/", data={"mac_addresses": "52:54:00:0a:0c:01", "commission": "0"})
    assert [m["status_name"] for m in api.post("machines/", op="accept_all").json()] == [
        "Commissioning"
    ]


def test_release_many_and_list_allocated(api: Api, user_api: Api) -> None:
    allocated = machines_in(api, "allocated")
    deployed = machines_in(api, "deployed")
    listed = api.get("machines/", op="list_allocated").json()
    assert {m["system_id"] for m in listed} == {m["system_id"] for m in allocated}
    ready = ready_machine(api)
    denied = user_api.post("machines/", op="release", data={"machines": deployed[0]["system_id"]})
    assert denied.status_code == 403
    released = api.post("machines/", op="release",
                        data={"machines": [allocated[0]["system_id"], deployed[0]["system_id"],
                                           ready]})
    assert sorted(released.json()) == sorted([allocated[0]["system_id"],
                                              deployed[0]["system_id"]])
    new = machines_in(api, "new")[0]["system_id"]
    conflict = api.post("machines/", op="release", data={"machines": new})
    assert conflict.status_code == 409
    assert conflict.text == (
        f"Machine(s) cannot be released in their current state: {new} ('New')."
    )


def test_power_parameters_and_registration(api: Api, user_api: Api) -> None:
    everything = api.get("machines/", op="power_parameters").json()
    assert len(everything) == 10
    first = next(iter(everything))
    one = api.get("machines/", op="power_parameters", params={"id": first}).json()
    assert list(one) == [first]
    assert user_api.get("machines/", op="power_parameters").status_code == 403
    mac = api.get(f"machines/{first}/").json()["interface_set"][0]["mac_address"]
    assert api.get("machines/", op="is_registered", params={"mac_address": mac}).json() is True
    assert api.get("nodes/", op="is_registered",
                   params={"mac_address": "52:54:00:ff:ff:ff"}).json() is False
    missing = api.get("machines/", op="is_registered")
    assert missing.status_code == 400 and missing.text == "No provided mac_address!"
    bad = api.get("machines/", op="is_registered", params={"mac_address": "junk"})
    assert bad.status_code == 400


def test_set_zone(api: Api) -> None:
    system_id = ready_machine(api)
    moved = api.post("machines/", op="set_zone", data={"zone": "zone-east",
                                                       "nodes": system_id})
    assert moved.status_code == 200
    assert api.get(f"machines/{system_id}/").json()["zone"]["name"] == "zone-east"
    bad = api.post("machines/", op="set_zone", data={"zone": "nowhere"})
    assert bad.json() == {
        "zone": ["Select a valid choice. nowhere is not one of the available choices."]
    }
    assert api.post("machines/", op="set_zone", data={}).json() == {
        "zone": ["This field is required."]
    }
