"""`python -m service.cli`: the `kpi` command."""

import sys

from service.cli import main

sys.exit(main())
