"""Command-line interfaces built from the servers' own descriptions.

``maas-dyn`` (entry point :func:`maas_dyn.cli.maas.main`) speaks the grammar of the
official ``maas`` CLI: ``maas-dyn login PROFILE URL [KEY]``, then
``maas-dyn PROFILE HANDLER ACTION [PATH-PARAM...] [key=value ...] [key@=FILE ...]``.
Nothing here is heavy to import: each command imports only what it needs.
"""
