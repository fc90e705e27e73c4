"""This directory's tests use module-long simulators (see sims.py)."""

from tests.testing.sims import maas_sim, truenas_sim

__all__ = ["maas_sim", "truenas_sim"]
