"""``python -m skal``: the parser and the one mapping from user errors to exit status 2."""

import argparse
import sys
import time

from ._common import UserError

__all__ = ["build_parser", "main"]


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help, with lines never broken inside a hyphenated name.

    ``query-by-committee`` or ``power-entropy`` stays one word in ``--help``,
    wherever the wrapping falls, so that it can be copied as it is.
    """

    def _split_lines(self, text, width):
        import textwrap

        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors as one ``error:`` line and exit status 2."""

    def __init__(self, *args, formatter_class=_HelpFormatter, **kwargs):
        super().__init__(*args, formatter_class=formatter_class, **kwargs)

    def error(self, message):
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def build_parser():
    """The parser of ``python -m skal``, with one subcommand per module.

    Returns
    -------
    parser : argparse.ArgumentParser
    """
    from . import _compare, _demo, _labels, _rank

    parser = _Parser(prog="python -m skal",
                     description="skal: deep active learning for scikit-learn.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in (_demo, _compare, _rank, _labels):
        command.add_parser(commands)
    return parser


def main(argv=None):
    """Entry point of ``python -m skal``.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments; ``None`` reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success; 2 for a mistake in the arguments or the files, reported
        as one ``error:`` line on stderr; 1 when the work itself failed (every
        trial of a comparison). A bug raises, with its traceback.
    """
    args = build_parser().parse_args(argv)
    tic = time.perf_counter()
    try:
        status = args.run(args)
    except UserError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    if status == 0 and not getattr(args, "quiet", False):
        print(f"done in {time.perf_counter() - tic:.1f} s", file=sys.stdout)
    return status
