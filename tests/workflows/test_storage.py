"""Tests of maas_dyn/workflows/storage.py against the MAAS and TrueNAS simulators."""

from __future__ import annotations

from typing import Any

import pytest

from maas_dyn import errors
from maas_dyn.maas import Client
from maas_dyn.truenas import Client as NASClient
from maas_dyn.workflows import select_machines, storage
from tests.workflows.conftest import Recording


def four_disk_machine(maas: Client) -> str:
    return next(m["system_id"] for m in select_machines(maas, {"status": "ready"})
                if len(m["physicalblockdevice_set"]) >= 4)


def test_layouts_flat_lvm_blank(maas: Client) -> None:
    machine = four_disk_machine(maas)
    flat = storage.apply_layout(maas, machine, "flat", root_size="20G")
    assert flat["boot_disk"]["partitions"]
    lvm = storage.apply_layout(maas, machine, "lvm", vg_name="vg0", lv_name="root")
    assert lvm["volume_groups"][0]["name"] == "vg0"
    storage.apply_layout(maas, machine, "blank")
    assert len(storage.unused_disks(maas, machine)) == 4


def test_bcache_surfaces_the_servers_501_as_the_typed_error(maas: Client) -> None:
    with pytest.raises(errors.MAASAPIError) as info:
        storage.apply_layout(maas, four_disk_machine(maas), "bcache", cache_mode="writeback")
    assert info.value.status == 501 and "bcache" in str(info.value)


def test_layout_names_and_options_are_checked_before_sending() -> None:
    client = Recording()
    with pytest.raises(errors.InvalidParametersError, match="unknown storage layout"):
        storage.apply_layout(client, "abc", "zfs")
    with pytest.raises(errors.InvalidParametersError, match="not vg_name") as info:
        storage.apply_layout(client, "abc", "flat", vg_name="x")
    assert info.value.errors == {"vg_name": ["not an option of this layout"]}
    with pytest.raises(errors.InvalidParametersError, match="no options"):
        storage.apply_layout(client, "abc", "blank", root_size="1G")
    assert client.requests == []


@pytest.mark.parametrize(("given", "level"), [
    (5, "raid-5"), ("5", "raid-5"), ("raid1", "raid-1"), ("RAID-10", "raid-10"),
    ("raid-6", "raid-6"), (" raid0 ", "raid-0")])
def test_raid_levels_are_normalised(given: Any, level: str) -> None:
    assert storage.raid_level(given) == level


@pytest.mark.parametrize("given", [3, "raid-4", "mirror", ""])
def test_unknown_raid_levels(given: Any) -> None:
    with pytest.raises(errors.InvalidParametersError, match="unknown RAID level"):
        storage.raid_level(given)


def test_raid_member_counts_come_from_the_table() -> None:
    client = Recording()
    for level, rule in storage.RAID_LEVELS.items():
        with pytest.raises(errors.InvalidParametersError, match=f"{level} needs at least"):
            storage.create_raid(client, "abc", level,
                                block_devices=list(range(rule.min_members - 1)))
    with pytest.raises(errors.InvalidParametersError, match="and no spares"):
        storage.create_raid(client, "abc", "raid-0", block_devices=[1, 2], spare_devices=[3])
    storage.create_raid(client, "abc", "raid-10", block_devices=[1, 2], partitions=[9])
    assert client.requests == [("raids", "create", ("abc",), [
        ("level", "raid-10"), ("block_devices", 1), ("block_devices", 2),
        ("partitions", 9)])]


def test_create_raid_on_free_disks(maas: Client) -> None:
    machine = four_disk_machine(maas)
    storage.apply_layout(maas, machine, "blank")
    disks = [d["id"] for d in storage.unused_disks(maas, machine)]
    raid = storage.create_raid(maas, machine, 1, name="md7", block_devices=disks[:2],
                               spare_devices=disks[2:3])
    assert (raid["level"], raid["name"]) == ("raid-1", "md7")
    assert len(raid["devices"]) == 2 and len(raid["spare_devices"]) == 1
    assert len(storage.unused_disks(maas, machine)) == 1


def test_zfs_pools_mirror_and_raidz_with_progress(nas: NASClient) -> None:
    free = storage.unused_nas_disks(nas)
    assert free == ["sda", "sdb", "sdc", "sdd", "sde", "sdf", "sdg", "sdh"]
    progress: list[dict[str, Any]] = []
    tank = storage.create_pool(nas, "tank", free[:4], on_progress=progress.append, timeout=30)
    assert [v["type"] for v in tank["topology"]["data"]] == ["MIRROR", "MIRROR"]
    assert progress and progress[-1]["percent"] == 100
    archive = storage.create_pool(nas, "archive", free[4:7], vdev_type="raidz", timeout=30)
    assert [v["type"] for v in archive["topology"]["data"]] == ["RAIDZ1"]
    assert storage.unused_nas_disks(nas) == ["sdh"]


def test_vdev_rules_are_checked_before_sending() -> None:
    with pytest.raises(errors.InvalidParametersError, match="unknown vdev type"):
        storage.create_pool(None, "p", ["a", "b"], vdev_type="raid5")
    with pytest.raises(errors.InvalidParametersError, match="at least 4 disks, not 3"):
        storage.create_pool(None, "p", ["a", "b", "c"], vdev_type="RAIDZ2")
    with pytest.raises(errors.InvalidParametersError, match="3 disk.* whole MIRROR vdevs of 2"):
        storage.create_pool(None, "p", ["a", "b", "c"])
    with pytest.raises(errors.InvalidParametersError, match="0 disk"):
        storage.create_pool(None, "p", [], vdev_type="STRIPE")


def test_a_failed_pool_job_raises_the_typed_error(nas: NASClient) -> None:
    storage.create_pool(nas, "tank", ["sda", "sdb"], timeout=30)
    with pytest.raises(errors.JobValidationFailed, match="already exists"):
        storage.create_pool(nas, "tank", ["sdc", "sdd"], timeout=30)


def test_datasets_nested_with_properties(nas: NASClient) -> None:
    storage.create_pool(nas, "tank", ["sda", "sdb"], vdev_type="mirror", timeout=30)
    made = storage.create_datasets(nas, "tank", {"vms": {"compression": "ZSTD"}, "vms/a": {}})
    assert [d["name"] for d in made] == ["tank/vms", "tank/vms/a"]
    assert made[0]["compression"]["value"] == "ZSTD"
    assert [d["name"] for d in storage.create_datasets(nas, "tank", ["logs"])] == ["tank/logs"]
