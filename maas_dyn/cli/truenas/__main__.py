"""``python -m maas_dyn.cli.truenas``: the same as ``truenas-dyn``."""

import sys

from maas_dyn.cli.truenas import main

sys.exit(main())
