"""`python -m conductor` is the `conductor` command."""

import sys

from conductor.cli import main

sys.exit(main())
