"""Run the Atelier stack on loopback, without Docker: `python deploy/local/stack.py up|down|wipe|env|status`.

The launcher is the `atelier_devkit.stack` package (standard library only). This script runs it
with any Python 3.11, before the workspace is installed, so it finds the package by path.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "devkit" / "src"))

from atelier_devkit.stack.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
