"""Network: a VLAN on a fabric, a subnet with a dynamic range, machine interfaces linked.

``python examples/network.py``
"""

import maas_dyn
from maas_dyn.sim.maas import MAASSimulator
from maas_dyn.workflows import network, select_machines

with MAASSimulator(machines=10, speed=5000) as sim:
    maas = maas_dyn.maas.connect(sim.url, api_key=sim.api_key, cache=False)
    fabric = maas.fabrics.read()[-1]

    vlan = network.create_vlan(maas, fabric["id"], 300, name="storage", mtu=9000)
    print(f"VLAN {vlan['vid']} '{vlan['name']}' on {fabric['name']} (MTU {vlan['mtu']})")

    setup = network.create_subnet(maas, "10.30.0.0/24", vlan=vlan["id"],
                                  gateway_ip="10.30.0.1", dns_servers=["10.30.0.2"],
                                  dynamic_range=("10.30.0.100", "10.30.0.199"))
    dynamic = setup.ranges[0]
    print(f"subnet {setup.subnet['cidr']}, dynamic range "
          f"{dynamic['start_ip']}-{dynamic['end_ip']}")

    ready = [m["system_id"] for m in select_machines(maas, {"status": "ready"})]
    result = network.link_machines(maas, ready, setup.subnet["id"], mode="static")
    for item in result.succeeded:
        address = item.value["links"][-1]["ip_address"]
        print(f"  {item.target} {item.value['name']} -> {address}")
    print(f"linked {len(result.succeeded)} of {len(ready)} machines")
