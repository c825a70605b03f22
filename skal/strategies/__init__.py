"""Query strategies: each is a scikit-learn estimator with fit/query/rank/transform.

Every module of this package is imported and the names in its ``__all__``
are exported, so adding a strategy is adding a module: its class is then in
``skal.strategies``, in ``skal``, in :func:`skal.all_strategies`, and known to
:func:`skal.model_selection.resolve_strategy`, ``compare_strategies`` and the
command line by its class name and by the short names in its ``_aliases``.
"""

import importlib
import pkgutil

__all__ = []

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    for _name in getattr(_module, "__all__", ()):
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)

__all__.sort()
del _info, _module, _name
