"""Strategy names: the short names, and a strategy from a name.

The one registry of names, next to :func:`skal.all_strategies`: every entry
point that takes a strategy takes its name too, through :func:`resolve_strategy`.
"""

__all__ = ["resolve_strategy", "strategy_aliases"]


def strategy_aliases():
    """The short names of the strategies, read from each strategy class.

    Each strategy lists its own short names (its ``_aliases``); the command
    line, :func:`~skal.model_selection.compare_strategies` and :func:`resolve_strategy` accept them
    besides the class names of :func:`skal.all_strategies`.

    Returns
    -------
    aliases : dict of str to str
        Short name to class name, sorted by short name.

    See Also
    --------
    resolve_strategy : A strategy instance from such a name.
    skal.all_strategies : The strategy classes.

    Examples
    --------
    >>> from skal.strategies import strategy_aliases
    >>> aliases = strategy_aliases()
    >>> aliases["badge"], aliases["least-confidence"]
    ('BADGE', 'LeastConfidence')
    """
    from . import all_strategies

    aliases = {}
    for name, cls in all_strategies():
        for alias in cls._aliases:
            if aliases.setdefault(alias, name) != name:
                raise RuntimeError(
                    f"The short name {alias!r} is claimed by both {aliases[alias]} "
                    f"and {name}; give one of them another in its _aliases."
                )
    return dict(sorted(aliases.items()))


_STOCHASTIC_MODES = ("power", "softmax", "softrank")


def resolve_strategy(name):
    """A strategy instance from a class name or a short alias.

    It is how every entry point reads strategy names (:class:`~skal.ActiveLearner`,
    :func:`~skal.model_selection.compare_strategies`, ``SwitchingStrategy``,
    ``StochasticBatch``, the command line), including budget-aware switches and
    stochastic batches.

    Parameters
    ----------
    name : str
        A short name (``"badge"``, ``"entropy"``, ``"least-confidence"``...,
        all of them in :func:`strategy_aliases`) or a class name from
        :func:`skal.all_strategies`; short names ignore case. A budget-aware
        switch is written ``"FIRST>THEN@N"``: ``"random>badge@50"`` is
        ``SwitchingStrategy(RandomSampling(), BADGE(), switch_at=50)``
        (random sampling while fewer than 50 samples are labeled, then
        BADGE), and ``"random>margin@20>badge@100"`` switches twice. A
        stochastic batch over a score-based strategy is written
        ``"MODE-NAME"`` with MODE one of ``power``, ``softmax``, ``softrank``:
        ``"power-entropy"`` is ``StochasticBatch(EntropySampling(),
        mode="power")``.

    Returns
    -------
    strategy : BaseStrategy
        A new instance with default parameters.

    See Also
    --------
    strategy_aliases : The short names it accepts.
    skal.all_strategies : The classes whose names it accepts.

    Examples
    --------
    >>> from skal.strategies import resolve_strategy
    >>> resolve_strategy("badge")
    BADGE()
    >>> resolve_strategy("EntropySampling")
    EntropySampling()
    >>> resolve_strategy("random>badge@50")
    SwitchingStrategy(first=RandomSampling(), switch_at=50, then=BADGE())
    >>> resolve_strategy("power-entropy")
    StochasticBatch(strategy=EntropySampling())
    """
    from . import all_strategies

    if isinstance(name, str) and ">" in name:
        from ._switch import _parse_switch

        return _parse_switch(name)
    if isinstance(name, str):
        mode, _, inner = name.partition("-")
        if mode.lower() in _STOCHASTIC_MODES and inner:
            from ..base import BaseScoreStrategy
            from ._stochastic import StochasticBatch

            strategy = resolve_strategy(inner)
            if not isinstance(strategy, BaseScoreStrategy):
                raise ValueError(
                    f"{name!r}: a stochastic batch draws by a score per sample, but "
                    f"{type(strategy).__name__} ranks otherwise. Use a score-based "
                    "strategy, e.g. 'power-entropy', 'softmax-margin' or 'softrank-random'."
                )
            return StochasticBatch(strategy, mode=mode.lower())
    classes = dict(all_strategies())
    aliases = strategy_aliases()
    key = aliases.get(name.lower(), name) if isinstance(name, str) else name
    if key not in classes:
        valid = sorted(set(aliases) | set(classes))
        raise ValueError(f"Unknown strategy {name!r}. Valid names: {', '.join(valid)}.")
    return classes[key]()


def _named_strategies(strategies):
    """``{name: strategy}`` from a list of strategies or names, or a dict.

    A name is resolved (:func:`resolve_strategy`) and labeled by its class name,
    except a switch spec (``"random>badge@50"``), which names itself.
    """
    if isinstance(strategies, dict):
        items = list(strategies.items())
    else:
        if isinstance(strategies, str) or not hasattr(strategies, "__iter__"):
            strategies = [strategies]
        items = []
        for s in strategies:
            strategy = resolve_strategy(s) if isinstance(s, str) else s
            # a switch spec ("random>badge@50") names itself
            label = s if isinstance(s, str) and ">" in s else type(strategy).__name__
            items.append((label, strategy))
    named = {}
    for name, strategy in items:
        if isinstance(strategy, str):
            strategy = resolve_strategy(strategy)
        if name in named:
            raise ValueError(
                f"Two strategies are named {name!r}; pass a dict name -> strategy to "
                "compare variants of one strategy."
            )
        named[name] = strategy
    if not named:
        raise ValueError("strategies is empty; pass at least one strategy to compare.")
    return named


def _register():
    from ..base._strategy import _register_name_resolver

    _register_name_resolver(resolve_strategy)


_register()
