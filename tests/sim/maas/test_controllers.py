"""Region and rack controllers with their ``service_set`` (handlers/controllers.py)."""

from __future__ import annotations

from maas_dyn.sim.maas import MAASSimulator

from .conftest import Api


def test_a_region_and_rack_controller_is_listed_by_both(api: Api, sim: MAASSimulator) -> None:
    racks = api.get("rackcontrollers/").json()
    regions = api.get("regioncontrollers/").json()
    assert [c["system_id"] for c in racks] == [c["system_id"] for c in regions]
    controller = racks[0]
    assert controller["hostname"] == "maas-controller"
    assert controller["node_type"] == 4
    assert controller["node_type_name"] == "Region and rack controller"
    assert controller["version"] == "3.7.3"
    services = {s["name"]: s for s in controller["service_set"]}
    assert services["rackd"] == {"name": "rackd", "status": "running", "status_info": ""}
    assert services["dhcpd6"]["status"] == "off"
    system_id = controller["system_id"]
    assert api.get(f"rackcontrollers/{system_id}/").json()["resource_uri"].endswith(
        f"rackcontrollers/{system_id}/")
    assert api.get(f"regioncontrollers/{system_id}/").json()["hostname"] == "maas-controller"


def test_filters_and_unknown_controllers(api: Api, sim: MAASSimulator) -> None:
    assert api.get("rackcontrollers/", params={"hostname": "other"}).json() == []
    assert len(api.get("regioncontrollers/", params={"hostname": "maas-controller"}).json()) == 1
    system_id = next(iter(sim.state.controllers))
    assert len(api.get("rackcontrollers/", params={"id": system_id}).json()) == 1
    assert api.get("rackcontrollers/", params={"zone": "x"}).status_code == 501
    machine = next(iter(sim.state.machines))
    assert api.get(f"rackcontrollers/{machine}/").status_code == 404
    with sim.state.lock:
        sim.state.controllers[system_id].node_type = 2  # a rack controller only
    assert api.get(f"regioncontrollers/{system_id}/").status_code == 404
    assert api.get("regioncontrollers/").json() == []


def test_the_pxe_vlan_serves_dhcp_from_the_rack(api: Api, sim: MAASSimulator) -> None:
    vlan = api.get("fabrics/0/vlans/0/").json()
    assert vlan["dhcp_on"] is True
    assert vlan["primary_rack"] == next(iter(sim.state.controllers))


def test_boot_resource_sets_show_sync_progress(api: Api, sim: MAASSimulator) -> None:
    resource = api.get("boot-resources/1/").json()
    (only,) = resource["sets"].values()
    assert only["complete"] is True and "progress" not in only
    sim.conditions.unsync_boot_resource(progress=12.5)
    (only,) = api.get("boot-resources/1/").json()["sets"].values()
    assert only["complete"] is False and only["progress"] == 12.5


def test_the_date_header_follows_the_simulated_clock(api: Api, sim: MAASSimulator) -> None:
    from email.utils import parsedate_to_datetime

    before = parsedate_to_datetime(api.get("version/").headers["Date"])
    sim.advance(86400 * 3)
    after = parsedate_to_datetime(api.get("version/").headers["Date"])
    assert 3 * 86400 - 5 < (after - before).total_seconds() < 3 * 86400 + 5
