"""The strategies' names for the command line, without importing a strategy.

``python -m skal --help`` and the first checks of a command must not import torch:
the help lists these names, and ``--strategy`` is checked against them before
anything is loaded. ``tests/test_cli.py`` keeps this table equal to the registry
(:func:`skal.all_strategies` and each class's ``_aliases``); the registry itself
(:func:`skal.strategies.resolve_strategy`) still builds the strategy.
"""

__all__ = ["NAMES", "aliases", "check_name"]

# class name -> its short names
NAMES = {
    "AdversarialBIM": ("bim",),
    "AdversarialDeepFool": ("deepfool",),
    "BADGE": ("badge",),
    "BAIT": ("bait",),
    "BALD": ("bald",),
    "BatchBALD": ("batchbald",),
    "ClusterMargin": ("cluster-margin", "clustermargin"),
    "CoreSet": ("coreset",),
    "DispersionSampling": ("dispersion",),
    "EntropySampling": ("entropy",),
    "FASS": ("fass",),
    "FacilityLocationSampling": ("facility-location",),
    "GLISTER": ("glister",),
    "GreedySampling": ("greedy",),
    "KMEANSPP": ("kmeanspp",),
    "KMeansPlusPlusSampling": ("kmeans++",),
    "KMeansSampling": ("kmeans",),
    "LCMD": ("lcmd",),
    "LeastConfidence": ("least-confidence", "least_confidence"),
    "MAXDET": ("maxdet",),
    "MAXDIST": ("maxdist",),
    "MarginSampling": ("margin",),
    "ProbCover": ("probcover",),
    "QueryByCommittee": ("qbc", "query-by-committee"),
    "RandomSampling": ("random",),
    "TypiClust": ("typiclust",),
    "VAAL": ("vaal",),
}

_MODES = ("power", "softmax", "softrank")


def aliases():
    """Short name -> class name, sorted by short name (as ``strategy_aliases``)."""
    return dict(sorted((alias, name) for name, short in NAMES.items() for alias in short))


def check_name(name):
    """Raise the registry's ValueError for a name it would not know; None otherwise.

    Switches (``"random>badge@50"``) and stochastic batches (``"power-entropy"``)
    are checked part by part; their form is checked by the registry later.
    """
    short = aliases()
    for part in name.split(">"):
        part = (part.rpartition("@")[0] if "@" in part else part).strip()
        mode, _, inner = part.partition("-")
        if mode.lower() in _MODES and inner:
            part = inner
        if part.lower() not in short and part not in NAMES:
            valid = sorted(set(short) | set(NAMES))
            raise ValueError(
                f"Unknown strategy {part!r}. Valid names: {', '.join(valid)}."
            )
