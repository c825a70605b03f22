"""Query strategies: each is a scikit-learn estimator with fit/query/rank/transform.

Every module of this package is imported and the names in its ``__all__``
are exported, so adding a strategy is adding a module: its class is then in
``skal.strategies``, in ``skal``, in :func:`skal.all_strategies`, and known to
:func:`resolve_strategy` (so by every entry point that takes a strategy) and the
command line by its class name and by the short names in its ``_aliases``.
"""

import importlib
import inspect
import pkgutil

__all__ = []

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in getattr(_module, "__all__", ()):
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)

__all__.sort()
del _info, _module, _name


def all_strategies():
    """All public, concrete query strategies that stand on their own.

    The strategies are discovered from the modules of :mod:`skal.strategies`,
    as :func:`sklearn.utils.discovery.all_estimators` discovers scikit-learn's
    estimators; a strategy added in a new module is listed without more code.

    Returns
    -------
    strategies : list of (name, class) tuples
        Sorted by name; abstract base classes are never included, nor the
        meta-strategies that wrap another strategy (``SubsetSampling``,
        ``ProxyPrefilter``, ``PartitionedStrategy``: they need one to exist).

    See Also
    --------
    resolve_strategy : A strategy instance from its name.
    strategy_aliases : The short names of the strategies.

    Examples
    --------
    >>> from skal import all_strategies
    >>> names = [name for name, _ in all_strategies()]
    >>> "BADGE" in names, names == sorted(names)
    (True, True)
    >>> "SubsetSampling" in names  # wraps another strategy
    False
    """
    from ..base import BaseStrategy

    found = [
        (name, obj)
        for name, obj in ((name, globals()[name]) for name in __all__)
        if inspect.isclass(obj)
        and issubclass(obj, BaseStrategy)
        and not inspect.isabstract(obj)
        and not name.startswith(("Base", "_"))
        and not getattr(obj, "_wraps_strategy", False)
    ]
    return sorted(found)
