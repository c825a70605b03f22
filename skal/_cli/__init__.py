"""The command line, ``python -m skal``: one module per command.

``_main`` builds the parser and maps user errors to exit status 2; ``_demo``,
``_compare``, ``_rank`` and ``_labels`` are the commands; ``_io`` reads pools,
models and ranking states and writes rankings. A command raises
:class:`UserError` for a mistake in its arguments or files (one ``error:`` line,
status 2); anything else is a bug and shows its traceback.
"""

from ._common import UserError
from ._main import build_parser, main

__all__ = ["UserError", "build_parser", "main"]
