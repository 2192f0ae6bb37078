"""`python -m autopilot_tools.cli ARGS...`: the `autopilot` command, from this checkout's code."""

import sys

from autopilot_tools.cli.main import main

sys.exit(main())
