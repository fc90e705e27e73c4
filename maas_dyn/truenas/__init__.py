"""The TrueNAS dialect: a client built from the middleware's ``core.get_methods``.

Example::

    import maas_dyn

    nas = maas_dyn.truenas.connect("wss://nas/api/current", username="admin",
                                   api_key="1-...")
    nas.pool.dataset.query([["name", "^", "tank"]], {"order_by": ["name"]})
    nas.call("pool.dataset.query", [["name", "^", "tank"]])
    job = nas.pool.create({...})
    job.wait(on_progress=print)
    for event in nas.events("alert.list", timeout=30):
        print(event.msg, event.fields)
"""

from maas_dyn.errors import JobValidationFailed
from maas_dyn.truenas.client import Client, MethodsChangedWarning, Opener, connect
from maas_dyn.truenas.endpoint import Endpoint, parse_endpoint
from maas_dyn.truenas.events import EventStream, Subscription
from maas_dyn.truenas.jobs import Job
from maas_dyn.truenas.login import Credentials
from maas_dyn.truenas.messages import Event
from maas_dyn.truenas.methods import Methods
from maas_dyn.truenas.scram import DerivedApiKey
from maas_dyn.truenas.transport import CallLimits, Link

__all__ = [
    "CallLimits",
    "Client",
    "Credentials",
    "DerivedApiKey",
    "Endpoint",
    "Event",
    "EventStream",
    "Job",
    "JobValidationFailed",
    "Link",
    "Methods",
    "MethodsChangedWarning",
    "Opener",
    "Subscription",
    "connect",
    "parse_endpoint",
]
