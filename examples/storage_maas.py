"""Storage on a MAAS machine: layouts (flat, LVM, bcache) and software RAID.

The simulator models flat, LVM and blank layouts; bcache answers HTTP 501 there, which
comes back as the typed error, not a fake success. ``python examples/storage_maas.py``
"""

import maas_dyn
from maas_dyn.errors import InvalidParametersError, MAASAPIError
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.workflows import select_machines, storage

with MAASSimulator(machines=10, speed=5000) as sim:
    maas = maas_dyn.maas.connect(sim.url, api_key=sim.api_key, cache=False)
    # A Ready machine with four disks.
    machine = next(m for m in select_machines(maas, {"status": "ready"})
                   if len(m["physicalblockdevice_set"]) >= 4)
    system_id = machine["system_id"]

    flat = storage.apply_layout(maas, system_id, "flat", root_size="100G")
    print(f"{system_id}: flat layout, boot disk partitions: "
          f"{len(flat['boot_disk']['partitions'])}")
    lvm = storage.apply_layout(maas, system_id, "lvm", vg_name="vg0", lv_size="50G")
    print(f"{system_id}: lvm layout, volume group {lvm['volume_groups'][0]['name']}")
    try:
        storage.apply_layout(maas, system_id, "bcache", cache_mode="writeback")
    except MAASAPIError as error:
        print(f"{system_id}: bcache refused by the server with HTTP {error.status}")

    # RAID needs free disks: clear the layout, then build a RAID 5 from three of them.
    storage.apply_layout(maas, system_id, "blank")
    disks = [disk["id"] for disk in storage.unused_disks(maas, system_id)]
    raid = storage.create_raid(maas, system_id, "raid5", name="md0", block_devices=disks[:3],
                               spare_devices=disks[3:])
    print(f"{system_id}: {raid['level']} {raid['name']} of {len(raid['devices'])} disks "
          f"+ {len(raid['spare_devices'])} spare, {raid['size'] / 1e9:.0f} GB")
    try:
        storage.create_raid(maas, system_id, "raid-6", block_devices=disks[:3])
    except InvalidParametersError as error:
        print(f"refused before sending: {error}")
