"""Embedded MAAS region simulator driven by the shipped MAAS API descriptions.

It is a real HTTP server on 127.0.0.1 that routes by the served description, checks
OAuth like MAAS, keeps machines and their lifecycle on a simulated clock, answers 501
for actions it does not model, and injects faults on demand. See ``MODELLED.md`` for
the actions it models.
"""

from maas_dyn.sim.maas.simulator import MAASSimulator

__all__ = ["MAASSimulator"]
