"""``python -m maas_dyn.cli.maas``: the same as the ``maas-dyn`` command."""

from maas_dyn.cli.maas import main

raise SystemExit(main())
