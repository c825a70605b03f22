"""``python -m skal``: the demo, strategy comparisons, and the labeling rounds.

The commands live in ``skal/_cli/`` (one module each); ``python -m skal --help``
lists them.
"""

import sys

from ._cli import main

__all__ = ["main"]


if __name__ == "__main__":
    sys.exit(main())
