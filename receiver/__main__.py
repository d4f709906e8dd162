"""``python -m receiver``: see ``receiver.cli``."""

import sys

from receiver.cli import main

if __name__ == "__main__":
    sys.exit(main())
