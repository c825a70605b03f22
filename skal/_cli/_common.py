"""What every command shares: the user-error type and progress lines."""

import sys
from contextlib import contextmanager

__all__ = ["UserError", "from_library", "progress", "warn"]


class UserError(Exception):
    """A mistake in the arguments or the files, reported as one ``error:`` line."""


def progress(args, message):
    """A progress line on stderr, unless ``--quiet``."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr, flush=True)


def warn(args, message):
    """A ``warning:`` line on stderr, unless ``--quiet`` (which prints errors only)."""
    progress(args, f"warning: {message}")


@contextmanager
def from_library(context=None):
    """Turn the library's input errors into user errors, around one call.

    Only where user data meets the library (a pool met by a model, a label
    file read against a pool): there a ``ValueError`` or ``TypeError`` is the
    library refusing the input, with a message that names the fix. Elsewhere
    these propagate with their traceback.
    """
    try:
        yield
    except (ValueError, TypeError) as exc:  # scikit-learn's NotFittedError included
        raise UserError(_one_line(exc, context)) from exc
    except Exception as exc:
        from ..exceptions import SkalException  # imported here: --help stays light

        if isinstance(exc, SkalException):
            raise UserError(_one_line(exc, context)) from exc
        raise


def _one_line(exc, context):
    message = " ".join(str(exc).split()) or type(exc).__name__
    return f"{context}: {message}" if context else message
