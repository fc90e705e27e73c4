"""What both command lines share, so that options mean the same in both.

Profiles, output formats, exit codes, option rows and parsers, completion, recording,
health, diffs and references, and the command table's shape.

``maas-dyn`` (:mod:`maas_dyn.cli.maas`) and ``truenas-dyn`` (:mod:`maas_dyn.cli.truenas`)
are built from these, so options mean the same in both and neither defines its own
profile store, usage error or output format.
"""
