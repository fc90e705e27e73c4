"""ZFS on TrueNAS: a mirrored pool and a RAIDZ pool (jobs with progress), then datasets.

Runs against the embedded TrueNAS simulator: ``python examples/storage_truenas.py``
"""

import maas_dyn
from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.workflows import storage


def show(progress: dict) -> None:
    """Print one progress update of a job."""
    print(f"  {progress['percent']:>3}% {progress['description']}")


with TrueNASSimulator(version="25.10", speed=500) as sim:
    nas = maas_dyn.truenas.connect(sim.url, username=sim.username, password=sim.password,
                                   cache=False)
    free = storage.unused_nas_disks(nas)
    print(f"unused disks: {', '.join(free)}")

    print("creating pool 'tank' (two mirrored pairs):")
    tank = storage.create_pool(nas, "tank", free[:4], vdev_type="MIRROR", on_progress=show,
                               timeout=60)
    print(f"tank: {[vdev['type'] for vdev in tank['topology']['data']]}, {tank['size_str']}")

    print("creating pool 'archive' (RAIDZ1):")
    archive = storage.create_pool(nas, "archive", free[4:7], vdev_type="raidz",
                                  on_progress=show, timeout=60)
    print(f"archive: {[vdev['type'] for vdev in archive['topology']['data']]}")

    made = storage.create_datasets(nas, "tank", {"vms": {"compression": "ZSTD"},
                                                  "vms/web": {}, "backups": {}})
    print(f"datasets: {', '.join(dataset['name'] for dataset in made)}")
    nas.close()
