"""`python -m simulators`: see simulators.cli."""

import sys

from simulators.cli import main

if __name__ == "__main__":
    sys.exit(main())
