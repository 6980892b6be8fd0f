"""`python -m conductor` is the `conductor` command."""

import sys

from conductor.cli import main

# Guarded: the jq process pool's spawned child imports the parent's main module.
if __name__ == "__main__":
    sys.exit(main())
