"""The async facade: the same generated objects with ``async`` methods.

``maas_dyn.aio.maas`` runs the sync MAAS funnel in a bounded thread pool, so a script
can ``await`` hundreds of calls from one event loop without blocking it.
``maas_dyn.aio.truenas`` sends each call on the TrueNAS WebSocket at once and awaits the
future the connection's reader thread completes: no thread per call, jobs awaitable.
"""
