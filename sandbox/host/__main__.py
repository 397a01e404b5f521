"""``python -m sandbox.host``."""

from __future__ import annotations

import sys

from sandbox.host.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
