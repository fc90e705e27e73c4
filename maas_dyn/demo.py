"""``maas-dyn demo``: a guided tour of maas_dyn against the embedded simulators.

It starts a simulated MAAS region and TrueNAS system on 127.0.0.1 (nothing else is
contacted), connects to them exactly as to real servers, and runs a realistic session.
MAAS: explore the generated API and a docstring, commission and deploy a few machines
with live progress, tag them, create a VLAN and a subnet, run a power action, print a
summary. TrueNAS: log in, explore,
create a pool over simulated disks with job progress, create datasets and an SMB share,
query with filters, and receive an alert through a subscription. Nothing here is
specific to the simulators: point the same calls at real servers and they do the same.
"""

from __future__ import annotations

import argparse
import inspect
import queue
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from maas_dyn import truenas
from maas_dyn.maas import Client
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.sim.truenas import TrueNASSimulator
from maas_dyn.workflows.bulk import BulkResult, run_bulk
from maas_dyn.workflows.waiters import Progress, get_waiter

__all__ = ["main", "run_maas_demo", "run_truenas_demo"]

_STARTABLE = ("New", "Ready")


class _Printer:
    """Section headings and indented lines, to one stream."""

    def __init__(self, out: TextIO):
        self.out = out

    def section(self, title: str) -> None:
        self.out.write(f"\n== {title}\n")

    def line(self, text: str = "") -> None:
        self.out.write(f"   {text}\n")
        self.out.flush()


def _count_actions(client: Client) -> int:
    return sum(len(h.actions) for h in client.description.handlers.values())


def _explore(client: Client, say: _Printer, connect_ms: float) -> None:
    say.section("1. Connect and explore: the client is built from the server's description")
    say.line(f"connected in {connect_ms:.1f} ms: {len(client.handlers)} handlers, "
             f"{_count_actions(client)} actions, description hash "
             f"{client.description.hash[:12]}")
    say.line(f"whoami: {client.users.whoami()['username']}, "
             f"MAAS {client.version.read()['version']}")
    signature = str(inspect.signature(client.machine.deploy))
    say.line(f"client.machine.deploy{signature[:110]}...")
    doc = inspect.getdoc(client.machine.deploy) or ""
    for text in doc.splitlines()[:16]:
        say.line(f"  | {text}")


def _wait_all(client: Client, waiter: str, targets: Sequence[str], say: _Printer,
              names: dict[str, str]) -> BulkResult[str]:
    seen: dict[str, str] = {}

    def report(progress: Progress) -> None:
        if seen.get(progress.target) != progress.state:
            seen[progress.target] = progress.state
            say.line(f"{names[progress.target]:<18} {progress.state:<22} "
                     f"{progress.elapsed:5.1f} s")

    wait = get_waiter(client, waiter, interval=0.2, timeout=60)
    return run_bulk(lambda sid: wait.wait(sid, on_progress=report), targets,
                    concurrency=len(targets) or 1, label=waiter)


def _lifecycle(client: Client, say: _Printer, count: int) -> list[str]:
    say.section(f"2. Commission, then deploy {count} machines (live progress)")
    machines = [m for m in client.machines.read() if m["status_name"] in _STARTABLE][:count]
    names = {m["system_id"]: m["hostname"] for m in machines}
    targets = list(names)
    run_bulk(client.machine.commission, targets, concurrency=8)
    commissioned = _wait_all(client, "machine_commissioned", targets, say, names)
    ready = [item.target for item in commissioned.succeeded]
    run_bulk(lambda sid: client.machine.deploy(sid, distro_series="jammy"), ready,
             concurrency=8)
    deployed = _wait_all(client, "machine_deployed", ready, say, names)
    say.line(deployed.summary().splitlines()[-1])
    return [item.target for item in deployed.succeeded]


def _tags(client: Client, say: _Printer, targets: list[str]) -> None:
    say.section("3. Tag the deployed machines")
    client.tags.create(name="demo-web", comment="Deployed by maas-dyn demo")
    client.tag.update_nodes("demo-web", add=targets)
    tagged = client.tag.machines("demo-web")
    say.line(f"tag demo-web: {len(tagged)} machines "
             f"({', '.join(sorted(m['hostname'] for m in tagged))})")


def _network(client: Client, say: _Printer) -> None:
    say.section("4. Network: a VLAN on the first fabric and a subnet on it")
    fabric = client.fabrics.read()[0]
    used = {vlan["vid"] for vlan in client.vlans.read(fabric["id"])}
    vid = next(v for v in range(100, 4095) if v not in used)
    vlan = client.vlans.create(fabric["id"], vid=vid, name="demo-vlan")
    subnet = client.subnets.create(cidr="10.99.0.0/24", vlan=vlan["id"], name="demo-subnet",
                                   gateway_ip="10.99.0.1")
    say.line(f"fabric {fabric['name']}: VLAN {vlan['vid']} ({vlan['name']}), "
             f"subnet {subnet['cidr']} gateway {subnet['gateway_ip']}")


def _power(client: Client, say: _Printer, target: str) -> None:
    say.section("5. Power: switch one machine off and wait for it")
    client.machine.power_off(target)
    state = get_waiter(client, "machine_powered_off", interval=0.2, timeout=30).wait(target)
    say.line(f"{target}: power {state['state']}")


def _summary(client: Client, say: _Printer, targets: list[str]) -> None:
    say.section("Summary")
    say.line(f"{'hostname':<18} {'system_id':<10} {'status':<12} {'power':<6} tags")
    for machine in client.machines.read(id=targets):
        say.line(f"{machine['hostname']:<18} {machine['system_id']:<10} "
                 f"{machine['status_name']:<12} {machine['power_state']:<6} "
                 f"{','.join(machine['tag_names'])}")


def run_maas_demo(out: TextIO | None = None, *, machines: int = 12, deploy: int = 4,
                  speed: float = 300.0) -> int:
    """Run the MAAS half of the demo.

    Args:
        out: Where to print (standard output by default).
        machines: Machines the simulator seeds.
        deploy: How many to commission and deploy.
        speed: Simulated seconds per wall-clock second.

    Returns:
        0 when every step succeeded.
    """
    say = _Printer(out or sys.stdout)
    with MAASSimulator(version="3.7", machines=machines, speed=speed, seed=7) as sim:
        say.section(f"maas_dyn demo: embedded MAAS {sim.version} simulator at {sim.url}")
        started = time.perf_counter()
        client = Client(sim.url, api_key=sim.api_key, cache=False)
        with client:
            _explore(client, say, (time.perf_counter() - started) * 1000)
            deployed = _lifecycle(client, say, deploy)
            if not deployed:
                say.line("no machine reached Deployed")
                return 1
            _tags(client, say, deployed)
            _network(client, say)
            _power(client, say, deployed[0])
            _summary(client, say, deployed)
    return 0


def _truenas_session(nas: truenas.Client, say: _Printer,
                     raise_alert: Callable[[], object]) -> None:
    say.section("6. TrueNAS: the client is built from core.get_methods after login")
    methods = nas.methods
    if methods is None:  # connect() always loads them
        raise RuntimeError("the TrueNAS client has no method list after login")
    create = methods.get("pool.create")
    say.line(f"{len(methods)} methods; pool.create is a job: "
             f"{create is not None and create.job}")
    say.line(f"nas.pool.dataset.query{inspect.signature(nas.pool.dataset.query)}")
    disks = [d["name"] for d in nas.disk.query([], {"order_by": ["name"]})]
    say.line(f"disks: {', '.join(disks)}")

    say.section("7. Create a pool (a job) with live progress")
    job = nas.pool.create({"name": "tank", "topology": {
        "data": [{"type": "RAIDZ1", "disks": disks[:3]}]}})
    shown: set[int] = set()

    def progress(step: dict[str, Any]) -> None:
        percent = int(step.get("percent") or 0)
        if percent not in shown:
            shown.add(percent)
            say.line(f"job {job.id}: {percent:3d}% {step.get('description') or ''}")

    pool = job.wait(timeout=60, on_progress=progress)
    say.line(f"pool {pool['name']}: {pool['status']}, healthy={pool['healthy']}")

    say.section("8. Datasets, a share, and a query with filters")
    for name in ("tank/media", "tank/media/photos", "tank/backups"):
        nas.pool.dataset.create({"name": name})
    share = nas.sharing.smb.create({"name": "media", "path": "/mnt/tank/media"})
    found = nas.pool.dataset.query([["name", "^", "tank/media"]],
                                   {"order_by": ["name"], "select": ["name"]})
    say.line(f"datasets under tank/media: {', '.join(d['name'] for d in found)}")
    say.line(f"SMB share {share['name']} -> {share['path']}")

    say.section("9. Subscribe to alerts and receive one")
    received: queue.Queue[truenas.Event] = queue.Queue()
    subscription = nas.subscribe("alert.list", received.put)
    raise_alert()
    event = received.get(timeout=10)
    subscription.unsubscribe()
    fields = event.fields or {}
    say.line(f"alert.list {event.msg}: [{fields.get('level')}] {fields.get('formatted')}")


def run_truenas_demo(out: TextIO | None = None, *, speed: float = 300.0) -> int:
    """Run the TrueNAS half of the demo.

    Args:
        out: Where to print (standard output by default).
        speed: Simulated seconds per wall-clock second.

    Returns:
        0 when every step succeeded.
    """
    say = _Printer(out or sys.stdout)
    with TrueNASSimulator(version="25.10", speed=speed, seed=7) as sim:
        say.section(f"maas_dyn demo: embedded TrueNAS {sim.version} simulator at {sim.url}")
        with truenas.connect(sim.url, username=sim.username, password=sim.password) as nas:
            _truenas_session(nas, say, lambda: sim.raise_alert(
                "ScrubNotStarted", "Scrub of pool tank has not run for 35 days", "WARNING"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``maas-dyn demo``.

    Args:
        argv: Arguments after ``demo``.

    Returns:
        The exit status.
    """
    parser = argparse.ArgumentParser(
        prog="maas-dyn demo", description="A guided tour of maas_dyn against the embedded "
        "simulators. " + (__doc__ or "").split("\n", 1)[1].strip(),
        epilog="The manual's Getting started page walks through the same calls.")
    parser.add_argument("--machines", type=int, default=12,
                        help="machines in the simulated region (default: 12)")
    parser.add_argument("--deploy", type=int, default=4,
                        help="how many of them to commission and deploy (default: 4)")
    parser.add_argument("--speed", type=float, default=300.0,
                        help="simulated seconds per real second, so that a deployment "
                        "takes seconds (default: 300)")
    parser.add_argument("--only", choices=("maas", "truenas"),
                        help="run only the MAAS or only the TrueNAS half")
    args = parser.parse_args(argv)
    status = 0
    if args.only in (None, "maas"):
        status |= run_maas_demo(machines=args.machines, deploy=args.deploy, speed=args.speed)
    if args.only in (None, "truenas"):
        status |= run_truenas_demo(speed=args.speed)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
