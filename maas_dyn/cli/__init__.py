"""Command-line interfaces built from the servers' own descriptions, shaped alike.

- :mod:`maas_dyn.cli.maas`: ``maas-dyn``, the grammar of the official ``maas`` CLI:
  ``maas-dyn login PROFILE URL [KEY]``, then
  ``maas-dyn PROFILE HANDLER ACTION [PATH-PARAM...] [key=value ...] [key@=FILE ...]``.
- :mod:`maas_dyn.cli.truenas`: ``truenas-dyn``, the grammar of ``midclt``.
- :mod:`maas_dyn.cli._common`: what both share (profiles, output, exit codes, options,
  completion, recording, health, diffs and references).

Nothing here is heavy to import: each command imports only what it needs.
"""
