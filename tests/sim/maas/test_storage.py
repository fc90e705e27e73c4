"""Storage: layouts, block devices, partitions, filesystems, RAID and LVM."""

from __future__ import annotations

from typing import Any

from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.maas.layouts import raid_capacity

from .conftest import Api, machines_in


def _four_disk_ready(api: Api) -> dict[str, Any]:
    return next(m for m in machines_in(api, "ready") if len(m["physicalblockdevice_set"]) == 4)


def test_flat_lvm_and_blank_layouts(api: Api) -> None:
    machine = _four_disk_ready(api)
    system_id = machine["system_id"]
    boot = machine["boot_disk"]
    assert boot["partition_table_type"] == "GPT"
    assert [p["filesystem"]["mount_point"] for p in boot["partitions"]] == ["/boot/efi", "/"]
    lvm = api.post(f"machines/{system_id}/", op="set_storage_layout",
                   data={"storage_layout": "lvm", "vg_name": "vg0", "lv_size": "100G"})
    assert lvm.status_code == 200, lvm.text
    body = lvm.json()
    assert [g["name"] for g in body["volume_groups"]] == ["vg0"]
    volume = body["volume_groups"][0]["logical_volumes"][0]
    assert volume["name"] == "lvroot" and volume["size"] == 100 * 1024**3
    assert volume["filesystem"]["mount_point"] == "/"
    assert body["boot_disk"]["partitions"][1]["used_for"] == "LVM volume for vg0"
    assert len(api.get(f"nodes/{system_id}/volume-groups/").json()) == 1
    blank = api.post(f"machines/{system_id}/", op="set_storage_layout",
                     data={"storage_layout": "blank"}).json()
    assert blank["volume_groups"] == [] and blank["boot_disk"]["partitions"] == []
    flat = api.post(f"machines/{system_id}/", op="set_storage_layout",
                    data={"storage_layout": "flat", "root_size": "50G",
                          "root_device": "sdb"}).json()
    assert flat["boot_disk"]["name"] == "sdb"
    assert flat["boot_disk"]["partitions"][1]["size"] == 50 * 1024**3


def test_layout_refusals(api: Api) -> None:
    machine = _four_disk_ready(api)["system_id"]
    assert api.post(f"machines/{machine}/", op="set_storage_layout").json() == {
        "storage_layout": ["This field is required."]
    }
    assert api.post(f"machines/{machine}/", op="set_storage_layout",
                    data={"storage_layout": "zigzag"}).status_code == 400
    vmfs = api.post(f"machines/{machine}/", op="set_storage_layout",
                    data={"storage_layout": "vmfs6"})
    assert vmfs.status_code == 501 and "vmfs6" in vmfs.json()["message"]
    too_big = api.post(f"machines/{machine}/", op="set_storage_layout",
                       data={"storage_layout": "flat", "root_size": "900T"})
    assert too_big.status_code == 400
    assert too_big.text.startswith("Failed to configure storage layout 'flat': ")
    bad_root = api.post(f"machines/{machine}/", op="set_storage_layout",
                        data={"storage_layout": "flat", "root_device": "sdz"})
    assert bad_root.status_code == 400
    deployed = machines_in(api, "deployed")[0]["system_id"]
    refused = api.post(f"machines/{deployed}/", op="set_storage_layout",
                       data={"storage_layout": "flat"})
    assert refused.status_code == 409
    assert refused.text == "Cannot change the storage layout on a machine that is not Ready."


def test_raid_levels(api: Api) -> None:
    machine = _four_disk_ready(api)
    system_id = machine["system_id"]
    api.post(f"machines/{system_id}/", op="set_storage_layout", data={"storage_layout": "flat"})
    disks = [d for d in machine["physicalblockdevice_set"] if d["name"] != "sda"]
    ids = [str(d["id"]) for d in disks]
    too_few = api.post(f"nodes/{system_id}/raids/", data={"level": "raid-6",
                                                          "block_devices": ids})
    assert too_few.json() == {"__all__": [
        "RAID level 6 must have at least 4 raid devices and any number of spares."
    ]}
    no_spares = api.post(f"nodes/{system_id}/raids/", data={"level": "raid-0",
                                                           "block_devices": ids[:2],
                                                           "spare_devices": ids[2]})
    assert no_spares.json() == {"__all__": [
        "RAID level 0 must have at least 2 raid devices and no spares."
    ]}
    used = api.post(f"nodes/{system_id}/raids/", data={"level": "raid-1",
                                                      "block_devices": ["sda", ids[0]]})
    assert used.status_code == 400 and "block_devices" in used.json()
    assert api.post(f"nodes/{system_id}/raids/", data={}).json() == {
        "level": ["This field is required."]
    }
    created = api.post(f"nodes/{system_id}/raids/", data={"level": "raid-5",
                                                         "block_devices": ids, "name": "md5"})
    assert created.status_code == 200, created.text
    raid = created.json()
    smallest = min(d["size"] for d in disks)
    assert raid["size"] == int(smallest * raid_capacity("raid-5", 3)) - 1024 * 1024
    assert raid["level"] == "raid-5" and len(raid["devices"]) == 3
    assert raid["virtual_device"]["name"] == "md5"
    assert raid["devices"][0]["used_for"] == "Active raid-5 device for md5"
    assert api.get(f"nodes/{system_id}/raids/").json()[0]["id"] == raid["id"]
    assert api.get(f"nodes/{system_id}/raid/{raid['id']}/").json()["name"] == "md5"
    renamed = api.put(f"nodes/{system_id}/raid/{raid['id']}/", data={"name": "data"})
    assert renamed.json()["virtual_device"]["name"] == "data"
    assert api.put(f"nodes/{system_id}/raid/{raid['id']}/",
                   data={"add_block_devices": "1"}).status_code == 501
    machine_doc = api.get(f"machines/{system_id}/").json()
    assert len(machine_doc["raids"]) == 1 and len(machine_doc["virtualblockdevice_set"]) == 1
    member = disks[0]["id"]
    assert api.delete(f"nodes/{system_id}/blockdevices/{member}/").status_code == 400
    assert api.delete(f"nodes/{system_id}/raid/{raid['id']}/").status_code == 204
    assert api.get(f"nodes/{system_id}/raid/{raid['id']}/").status_code == 404
    for level, count in (("raid-0", 2), ("raid-1", 2), ("raid-10", 3)):
        made = api.post(f"nodes/{system_id}/raids/", data={"level": level,
                                                          "block_devices": ids[:count]})
        assert made.status_code == 200, made.text
        api.delete(f"nodes/{system_id}/raid/{made.json()['id']}/")


def test_raid_needs_a_ready_machine(api: Api) -> None:
    deployed = machines_in(api, "deployed")[0]["system_id"]
    refused = api.post(f"nodes/{deployed}/raids/", data={"level": "raid-1"})
    assert refused.status_code == 409
    assert refused.text == "Cannot create RAID because the machine is not Ready."


def test_block_devices_partitions_and_filesystems(api: Api) -> None:
    machine = _four_disk_ready(api)
    system_id = machine["system_id"]
    base = f"nodes/{system_id}/blockdevices/"
    assert len(api.get(base).json()) == 4
    sdb = next(d for d in machine["physicalblockdevice_set"] if d["name"] == "sdb")
    disk = f"{base}{sdb['id']}/"
    formatted = api.post(disk, op="format", data={"fstype": "xfs", "label": "data"})
    assert formatted.json()["filesystem"]["fstype"] == "xfs"
    mounted = api.post(disk, op="mount", data={"mount_point": "/srv", "mount_options": "noatime"})
    assert mounted.json()["used_for"] == "xfs formatted filesystem mounted at /srv"
    assert api.post(disk, op="unformat").status_code == 400
    assert api.post(disk, op="unmount").json()["filesystem"]["mount_point"] is None
    assert api.post(disk, op="unmount").status_code == 400
    assert api.post(disk, op="unformat").json()["filesystem"] is None
    assert api.post(disk, op="unformat").status_code == 400
    assert api.post(disk, op="mount", data={"mount_point": "/x"}).status_code == 400
    assert api.post(disk, op="format", data={"fstype": "ntfs"}).status_code == 400
    tagged = api.post(disk, op="add_tag", data={"tag": "fast"})
    assert "fast" in tagged.json()["tags"]
    assert "fast" not in api.post(disk, op="remove_tag", data={"tag": "fast"}).json()["tags"]
    part = api.post(f"{disk}partitions/", data={"size": "10G", "bootable": "true"})
    assert part.status_code == 200, part.text
    partition = part.json()
    assert partition["path"].endswith("sdb-part1") and partition["bootable"] is True
    assert api.post(disk, op="format", data={"fstype": "ext4"}).json() == {
        "__all__": ["Cannot format block device with a partition table."]
    }
    rest = api.post(f"{disk}partitions/").json()
    assert rest["size"] > 0
    assert api.post(f"{disk}partitions/", data={"size": "1G"}).status_code == 400
    assert len(api.get(f"{disk}partitions/").json()) == 2
    part_url = f"{disk}partition/{partition['id']}"
    assert api.get(part_url).json()["id"] == partition["id"]
    assert api.post(part_url, op="format", data={"fstype": "ext4"}).json()["filesystem"][
        "fstype"] == "ext4"
    assert api.post(part_url, op="mount", data={"mount_point": "/var"}).json()["used_for"] == \
        "ext4 formatted filesystem mounted at /var"
    assert api.post(part_url, op="format", data={"fstype": "xfs"}).status_code == 400
    assert api.post(part_url, op="add_tag", data={"tag": "t"}).json()["tags"] == ["t"]
    assert api.get(f"{disk}partition/999").status_code == 404
    assert api.delete(part_url).status_code == 204
    assert api.delete(f"{disk}partition/{rest['id']}").status_code == 204
    assert api.get(disk).json()["partition_table_type"] is None
    assert api.put(disk, data={"name": "data0", "model": "m"}).json()["name"] == "data0"
    assert api.post(disk, op="set_boot_disk").status_code == 200
    assert api.get(f"machines/{system_id}/").json()["boot_disk"]["id"] == sdb["id"]
    created = api.post(base, data={"name": "sde", "size": "1T", "block_size": "4096",
                                   "model": "Disk", "serial": "S1"})
    assert created.status_code == 200, created.text
    assert api.post(base, data={"name": "sde", "size": "1T", "block_size": "512"}).json() == {
        "__all__": ["serial/model are required if id_path is not provided."],
        "name": ["Another block device on this machine has this name."],
    }
    assert api.delete(f"{base}{created.json()['id']}/").status_code == 204
    assert api.delete(disk).status_code == 204
    assert api.get(disk).status_code == 404
    assert api.get(f"machines/{system_id}/").json()["boot_disk"] is None


def test_volume_groups(api: Api) -> None:
    machine = _four_disk_ready(api)
    system_id = machine["system_id"]
    sdc = next(d for d in machine["physicalblockdevice_set"] if d["name"] == "sdc")
    base = f"nodes/{system_id}/volume-groups/"
    assert api.post(base, data={"name": "vg1"}).json() == {
        "__all__": ["At least one valid block device or partition is required."]
    }
    group = api.post(base, data={"name": "vg1", "block_devices": str(sdc["id"])}).json()
    assert group["size"] == sdc["size"] and group["available_size"] == sdc["size"]
    url = f"nodes/{system_id}/volume-group/{group['id']}/"
    volume = api.post(url, op="create_logical_volume", data={"name": "data", "size": "10G"})
    assert volume.status_code == 200, volume.text
    assert api.get(url).json()["used_size"] == 10 * 1024**3
    assert api.post(url, op="create_logical_volume",
                    data={"name": "huge", "size": "900T"}).status_code == 400
    assert api.post(url, op="delete_logical_volume",
                    data={"id": str(volume.json()["id"])}).status_code == 204
    assert api.post(url, op="delete_logical_volume", data={"id": "999"}).status_code == 404
    assert api.post(base, data={"name": "vg1", "block_devices": "sdd"}).status_code == 400
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404


def test_storage_edits_need_ready(sim: MAASSimulator, api: Api) -> None:
    deployed = machines_in(api, "deployed")[0]
    system_id = deployed["system_id"]
    disk = deployed["physicalblockdevice_set"][0]["id"]
    refused = api.post(f"nodes/{system_id}/blockdevices/{disk}/partitions/")
    assert refused.status_code == 409
    assert "not Ready" in refused.text
    assert api.post(f"nodes/{system_id}/blockdevices/{disk}/", op="format",
                    data={"fstype": "ext4"}).status_code == 409
