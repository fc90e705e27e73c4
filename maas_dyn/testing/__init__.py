"""Test support for users' own scripts: stubbers, cassettes, and a pytest plugin.

- :class:`Stubber` (MAAS) and :class:`TrueNASStubber`: queue the answers a script
  should get, checked against the server's own description.
- :func:`record` and :func:`replay`: a real session into a cassette, and back with no
  server (vcrpy YAML for MAAS, JSON lines for TrueNAS), secrets redacted.
- :mod:`maas_dyn.testing.pytest_plugin`: fixtures with simulators, connected clients and
  stubbed clients, registered with pytest on installation.

Names are imported on first use, so the pytest plugin costs nothing until a fixture
is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas_dyn._lazy import lazy_attributes

if TYPE_CHECKING:
    from maas_dyn.testing.cassettes import record, replay
    from maas_dyn.testing.errors import CassetteMismatchError, StubAssertionError
    from maas_dyn.testing.stubber import Stubber
    from maas_dyn.testing.truenas_stubber import TrueNASStubber

__all__ = [
    "CassetteMismatchError",
    "StubAssertionError",
    "Stubber",
    "TrueNASStubber",
    "record",
    "replay",
]

# Public name -> (module, attribute).
__getattr__, __dir__ = lazy_attributes(__name__, globals(), {
    "CassetteMismatchError": ("maas_dyn.testing.errors", "CassetteMismatchError"),
    "StubAssertionError": ("maas_dyn.testing.errors", "StubAssertionError"),
    "Stubber": ("maas_dyn.testing.stubber", "Stubber"),
    "TrueNASStubber": ("maas_dyn.testing.truenas_stubber", "TrueNASStubber"),
    "record": ("maas_dyn.testing.cassettes", "record"),
    "replay": ("maas_dyn.testing.cassettes", "replay"),
}, __all__)
