"""Every script in examples/ runs on a fresh machine (against the embedded simulators).

Each runs as a subprocess and must exit 0; the workflow examples must also print what
they say they did.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

# Script -> lines its output must contain (what it says it did); and what it must not say.
EXPECTED: dict[str, tuple[str, ...]] = {
    "provision.py": ("commission -> Ready", "deploy     -> Deployed",
                     "deployed 6 of 6 ready machines", "released with disk erase -> Ready"),
    "tagging.py": ("tags created:", "isolcpus:", "second run applied 0",
                   "kernel options of 'isolcpus': isolcpus=2-63"),
    "storage_maas.py": ("flat layout", "lvm layout, volume group vg0",
                        "bcache refused by the server with HTTP 501",
                        "raid-5 md0 of 3 disks + 1 spare", "refused before sending: raid-6"),
    "storage_truenas.py": ("100% Setting pool options", "tank: ['MIRROR', 'MIRROR']",
                           "archive: ['RAIDZ1']", "datasets: tank/vms, tank/vms/web"),
    "network.py": ("VLAN 300 'storage'", "dynamic range 10.30.0.100-10.30.0.199",
                   "linked 6 of 6 machines"),
    "power.py": ("'power_pass': '********'", "power states:", "cycled"),
    "bulk_deploy.py": ("attempts=2", "Deployed", "Failed deployment", "succeeded"),
    "async_fanout.py": ("MAAS: 18 machines Deployed", "TrueNAS: pools fast, bulk created"),
    "resources.py": ("interfaces, e.g. <interface", "description: storage node",
                     "has VLANs", "async: <machine", "Deployed>", "comments: 'virtual machines'"),
}
NEVER_SHOWN = ("ipmi-secret", "redfish-secret")


SCRIPTS = sorted(path.name for path in EXAMPLES.glob("*.py"))


def test_every_workflow_has_its_example() -> None:
    assert set(EXPECTED) <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs(script: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MAAS_DYN_CACHE_DIR": str(tmp_path / "c"),
           "MAAS_DYN_CONFIG_DIR": str(tmp_path / "p")}
    done = subprocess.run([sys.executable, str(EXAMPLES / script)], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    for expected in EXPECTED.get(script, ()):
        assert expected in done.stdout, f"{expected!r} missing from:\n{done.stdout}"
    for secret in NEVER_SHOWN:
        assert secret not in done.stdout + done.stderr
