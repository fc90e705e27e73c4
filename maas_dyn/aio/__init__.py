"""The async facade: the same generated objects with ``async`` methods.

``maas_dyn.aio.maas`` runs the sync MAAS funnel in a bounded thread pool, so a script
can ``await`` hundreds of calls from one event loop without blocking it.
"""
