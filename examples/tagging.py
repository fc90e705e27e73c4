"""Discovery and tagging: find new machines and tag them by hardware facts.

Rules are data: a fact (cpu_count, memory, storage, architecture), an operator and a
value; a tag may carry kernel options. ``python examples/tagging.py``
"""

import maas_dyn
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.workflows import select_machines, tagging

RULES = [
    *tagging.DEFAULT_RULES,
    tagging.TagRule("small", "cpu_count", "<=", 4, comment="4 cores or fewer"),
    tagging.TagRule("isolcpus", "cpu_count", ">=", 64, kernel_opts="isolcpus=2-63",
                    comment="big boxes keep cores for the workload"),
]

with MAASSimulator(machines=20, speed=5000) as sim:
    maas = maas_dyn.maas.connect(sim.url, api_key=sim.api_key, cache=False)

    new = tagging.find_new_machines(maas)
    print(f"new machines: {', '.join(m['system_id'] for m in new)}")
    report = tagging.tag_machines(maas, new, RULES)
    print(f"tags created: {', '.join(report.created)}")
    for tag, machines in report.applied.items():
        print(f"  {tag}: {', '.join(machines)}")

    # The whole fleet; running it twice changes nothing the second time.
    fleet = tagging.tag_machines(maas, select_machines(maas), RULES)
    again = tagging.tag_machines(maas, select_machines(maas), RULES)
    print(f"whole fleet: {sum(map(len, fleet.applied.values()))} tags applied; "
          f"second run applied {sum(map(len, again.applied.values()))}")
    print(f"kernel options of 'isolcpus': {maas.tag.read('isolcpus')['kernel_opts']}")
