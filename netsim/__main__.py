"""``python -m netsim`` runs the command line."""

import sys

from netsim.cli import main

sys.exit(main())
