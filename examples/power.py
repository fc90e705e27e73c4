"""Power: set IPMI and Redfish parameters, query power across machines, cycle them.

Passwords never show in reprs, logs or errors. ``python examples/power.py``
"""

import maas_dyn
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.workflows import power, select_machines

with MAASSimulator(machines=10, speed=5000) as sim:
    maas = maas_dyn.maas.connect(sim.url, api_key=sim.api_key, cache=False)
    machines = [m["system_id"] for m in select_machines(maas)]

    ipmi = power.PowerSettings.ipmi("10.0.0.21", "maas", "ipmi-secret", privilege_level="ADMIN")
    redfish = power.PowerSettings.redfish("https://10.0.0.22", "root", "redfish-secret")
    print(ipmi)
    power.set_power(maas, machines[0], ipmi)
    power.set_power(maas, machines[1], redfish)
    print(f"{machines[0]} power parameters: {power.get_power_parameters(maas, machines[0])}")

    states = power.query_power(maas, machines, concurrency=16)
    print("power states: " + ", ".join(f"{i.target}={i.value}" for i in states.items))

    # Only machines someone owns can be powered on: cycle the deployed ones.
    deployed = [m["system_id"] for m in select_machines(maas, {"status": "deployed"})]
    cycled = power.power_many(maas, deployed, "cycle", wait=True, interval=0.05)
    print(f"cycled {', '.join(i.target for i in cycled.succeeded)}: "
          f"{', '.join(i.value for i in cycled.succeeded)}")
