"""Shared docstring text: one place for a parameter's description, many classes."""

__all__ = ["Substitution"]


class Substitution:
    """Decorate a class or function to fill ``%(name)s`` fields of its docstring.

    The strategies of a family share paragraphs (the ``estimator`` and
    ``prefit`` parameters, ``device``, MC dropout's parameters...). Each is
    written once and inserted with this decorator, as imbalanced-learn and
    pandas do. A literal ``%`` in a decorated docstring is written ``%%``.

    Parameters
    ----------
    **params : str
        The text of each field.

    Examples
    --------
    >>> from skal.utils._docstring import Substitution
    >>> @Substitution(seed="random_state : int, default=None")
    ... def f():
    ...     '''Do it.
    ...
    ...     Parameters
    ...     ----------
    ...     %(seed)s
    ...     '''
    >>> "random_state : int" in f.__doc__
    True
    """

    def __init__(self, **params):
        self.params = params

    def __call__(self, obj):
        if obj.__doc__:
            obj.__doc__ = obj.__doc__ % self.params
        return obj
