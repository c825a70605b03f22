"""Figures for a comparison of query strategies.

Every function takes the object returned by
``skal.model_selection.compare_strategies`` (any object with the same
attributes will do, see below) and an optional matplotlib ``Axes``. With
``ax=None`` a new pyplot figure is created; the function draws on the axes and
returns them. Nothing here calls ``plt.show``.

- :func:`plot_learning_curves`: mean test score vs labels, ±1 std over trials;
- :func:`plot_labeling_efficiency`: labels saved vs the random baseline;
- :func:`plot_penalty_matrix`: how often each strategy beats each other one;
- :func:`plot_time_breakdown`: seconds per round, fitting vs querying;
- :func:`save_comparison_plots`: all four, as PNG files in a folder.

One more figure is about a single strategy rather than a comparison:
:func:`plot_embedding` draws a strategy's picks on a 2-D map of the pool.

The attributes read from ``comparison`` are:

- ``names`` : list of str, the strategies, the baseline among them;
- ``baseline`` : str, the name of the random-sampling baseline;
- ``n_labeled`` : ndarray of shape (n_rounds,), labels after each round;
- ``scores``, ``fit_times``, ``query_times`` : dict name → ndarray of shape
  (n_trials, n_rounds): test score, seconds fitting, seconds querying
  (``query_times[:, 0]`` is NaN: round 0 has no query);
- ``efficiency`` : dict name → ``(targets, efficiency)``, two 1-D arrays;
- ``penalty`` : ndarray of shape (k, k) over ``names``, the fraction of
  rounds where the row strategy beats the column strategy;
- ``scoring`` : str, the score's name, e.g. ``"accuracy"``. Scores are drawn
  as the scorer gives them, greater is better: a ``"neg_"`` scorer (such as
  ``"neg_root_mean_squared_error"`` for a regressor) draws negative errors,
  and its axis says "(greater is better)".

Examples
--------
A comparison built by hand, with the attributes ``compare_strategies``
returns:

>>> import tempfile
>>> from pathlib import Path
>>> from types import SimpleNamespace
>>> import numpy as np
>>> from skal.plotting import save_comparison_plots
>>> names = ["RandomSampling", "EntropySampling"]
>>> n_labeled = np.array([20, 40, 60, 80])
>>> comparison = SimpleNamespace(
...     names=names, baseline="RandomSampling", n_labeled=n_labeled, scoring="accuracy",
...     scores={"RandomSampling": np.array([[.50, .62, .70, .75], [.52, .60, .71, .76]]),
...             "EntropySampling": np.array([[.50, .68, .78, .83], [.52, .70, .79, .84]])},
...     fit_times={name: np.full((2, 4), 0.2) for name in names},
...     query_times={name: np.array([[np.nan, .01, .01, .01]] * 2) for name in names},
...     efficiency={"RandomSampling": (np.array([.6, .7]), np.array([1.0, 1.0])),
...                 "EntropySampling": (np.array([.6, .7]), np.array([1.3, 1.6]))},
...     penalty=np.array([[0.0, 0.0], [0.75, 0.0]]),
... )
>>> with tempfile.TemporaryDirectory() as folder:
...     paths = save_comparison_plots(comparison, Path(folder) / "figures")
...     sorted(path.name for path in paths.values())
['labeling_efficiency.png', 'learning_curves.png', 'penalty_matrix.png', 'time_breakdown.png']
"""

import warnings
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

__all__ = [
    "plot_embedding",
    "plot_labeling_efficiency",
    "plot_learning_curves",
    "plot_penalty_matrix",
    "plot_time_breakdown",
    "save_comparison_plots",
]

_BASELINE_STYLE = {"color": "0.3", "linestyle": "--"}


# --------------------------------------------------------------------------- #
# checks and shared helpers
# --------------------------------------------------------------------------- #


def _check_attributes(comparison, attributes, caller):
    missing = [name for name in attributes if not hasattr(comparison, name)]
    if missing:
        raise TypeError(
            f"{caller} needs a comparison as returned by "
            f"skal.model_selection.compare_strategies; the object given "
            f"({type(comparison).__name__}) has no attribute(s) {', '.join(map(repr, missing))}."
        )


def _check_names(comparison, caller):
    names = list(comparison.names)
    if not names:
        raise ValueError(f"{caller}: comparison.names is empty; there is nothing to plot.")
    if len(set(names)) != len(names):
        raise ValueError(f"{caller}: comparison.names has duplicates: {names}.")
    return names


def _per_strategy(comparison, attribute, names, caller, n_rounds=None):
    """``{name: 2-D float array}`` from ``comparison.<attribute>``, checked."""
    table = getattr(comparison, attribute)
    out = {}
    for name in names:
        if name not in table:
            raise ValueError(
                f"{caller}: comparison.{attribute} has no entry for strategy {name!r} "
                f"(it has {sorted(table)})."
            )
        values = np.asarray(table[name], dtype=float)
        if values.ndim == 1:
            values = values[np.newaxis]
        if values.ndim != 2 or (n_rounds is not None and values.shape[1] != n_rounds):
            expected = "(n_trials, n_rounds)" if n_rounds is None else f"(n_trials, {n_rounds})"
            raise ValueError(
                f"{caller}: comparison.{attribute}[{name!r}] has shape {values.shape}; "
                f"expected {expected}, one column per entry of comparison.n_labeled."
            )
        out[name] = values
    return out


def _nan_mean_std(values, axis=None):
    """``nanmean`` and ``nanstd`` without the warnings for all-NaN slices."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis), np.nanstd(values, axis=axis)


def _strategy_styles(names, baseline):
    """The same color and line style for a strategy in every figure; the baseline in gray.

    Ten colors, then the same ten dash-dotted, then dotted: up to 30 strategies
    stay distinguishable.
    """
    others = [name for name in names if name != baseline]
    linestyles = ("-", "-.", ":")
    styles = {
        name: {"color": f"C{i % 10}", "linestyle": linestyles[(i // 10) % 3]}
        for i, name in enumerate(others)
    }
    styles[baseline] = dict(_BASELINE_STYLE)
    return styles


def _legend(ax, n_entries, loc):
    """A legend inside the axes, or beside them when it would cover the data."""
    if n_entries > 8:
        return ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
                         frameon=False)
    return ax.legend(loc=loc, fontsize="small")


def _new_axes(figsize):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _score_label(scoring):
    """The axis text of a score: its name, and the sign convention of a "neg_" scorer."""
    scoring = str(scoring)
    if scoring.startswith("neg_"):
        return f"test {scoring} (greater is better)"
    return f"test {scoring}"


def _baseline_of(comparison, names, caller):
    baseline = comparison.baseline
    if baseline not in names:
        raise ValueError(
            f"{caller}: comparison.baseline={baseline!r} is not one of comparison.names {names}."
        )
    return baseline


# --------------------------------------------------------------------------- #
# the figures
# --------------------------------------------------------------------------- #


def plot_learning_curves(comparison, ax=None):
    """Plot the mean test score against the number of labels, per strategy.

    Each strategy is one line (the baseline dashed gray) with a band of ±1
    standard deviation across trials. Trials with missing scores (NaN) are
    left out of the mean and standard deviation of the rounds they miss.

    Parameters
    ----------
    comparison : object
        The result of ``skal.model_selection.compare_strategies``. Reads
        ``names``, ``baseline``, ``n_labeled``, ``scores`` and ``scoring``.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on. ``None`` creates a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on: one line per strategy, in ``comparison.names``
        order.

    Raises
    ------
    TypeError
        If ``comparison`` lacks one of the attributes above.
    ValueError
        If a strategy has no scores, or their shape does not match
        ``n_labeled``.

    See Also
    --------
    plot_labeling_efficiency : The same curves read as labels saved.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> from skal.plotting import plot_learning_curves
    >>> comparison = SimpleNamespace(
    ...     names=["RandomSampling", "EntropySampling"], baseline="RandomSampling",
    ...     n_labeled=np.array([20, 40, 60, 80]), scoring="accuracy",
    ...     scores={"RandomSampling": np.array([[.50, .62, .70, .75], [.52, .60, .71, .76]]),
    ...             "EntropySampling": np.array([[.50, .68, .78, .83], [.52, .70, .79, .84]])},
    ... )
    >>> ax = plot_learning_curves(comparison)
    >>> [line.get_label() for line in ax.get_lines()]
    ['RandomSampling', 'EntropySampling']
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('number of labeled samples', 'test accuracy')
    >>> ax.get_title()
    'Learning curves (mean ± 1 std over 2 trials)'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)

    A ``"neg_"`` scorer's curves are negative errors, and the axis says so:

    >>> comparison.scoring = "neg_root_mean_squared_error"
    >>> comparison.scores = {name: -1 - scores for name, scores in comparison.scores.items()}
    >>> ax = plot_learning_curves(comparison)
    >>> ax.get_ylabel()
    'test neg_root_mean_squared_error (greater is better)'
    >>> plt.close(ax.figure)
    """
    caller = "plot_learning_curves"
    _check_attributes(comparison, ["names", "baseline", "n_labeled", "scores", "scoring"], caller)
    names = _check_names(comparison, caller)
    baseline = _baseline_of(comparison, names, caller)
    n_labeled = np.asarray(comparison.n_labeled)
    if n_labeled.ndim != 1:
        raise ValueError(
            f"{caller}: comparison.n_labeled must be 1-D, got shape {n_labeled.shape}."
        )
    scores = _per_strategy(comparison, "scores", names, caller, n_rounds=len(n_labeled))
    if ax is None:
        ax = _new_axes((7.0, 4.5))

    styles = _strategy_styles(names, baseline)
    markersize = 4 if len(n_labeled) <= 25 else 0
    for name in names:
        mean, std = _nan_mean_std(scores[name], axis=0)
        style = styles[name]
        (line,) = ax.plot(
            n_labeled, mean, marker="o", markersize=markersize, linewidth=1.6,
            label=name, zorder=3 if name == baseline else 2, **style,
        )
        ax.fill_between(
            n_labeled, mean - std, mean + std, color=line.get_color(), alpha=0.15,
            linewidth=0, zorder=1,
        )

    trials = sorted(
        {int(np.any(np.isfinite(scores[name]), axis=1).sum()) for name in names}
    )
    n_trials = f"{trials[0]}" if len(trials) == 1 else f"{trials[0]}–{trials[-1]}"
    spread = "" if trials == [1] else "mean ± 1 std over "
    plural = "" if trials == [1] else "s"
    ax.set_title(f"Learning curves ({spread}{n_trials} trial{plural})")
    ax.set_xlabel("number of labeled samples")
    ax.set_ylabel(_score_label(comparison.scoring))
    ax.grid(alpha=0.3)
    _legend(ax, len(names), "lower right")
    return ax


def plot_labeling_efficiency(comparison, ax=None):
    """Plot each strategy's labeling efficiency against the target score.

    For every target test score along the learning curves, the efficiency
    says how many times fewer labels than the random baseline a strategy
    needs to reach it: above the dashed line at 1 the strategy saves labels,
    below it it wastes them. Infinite or undefined efficiencies (a target
    one of the two never reached) are not drawn.

    Parameters
    ----------
    comparison : object
        The result of ``skal.model_selection.compare_strategies``. Reads
        ``names``, ``baseline``, ``efficiency`` and ``scoring``.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on. ``None`` creates a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on: one line per strategy other than the baseline, in
        ``comparison.names`` order, then the baseline's line at 1.

    Raises
    ------
    TypeError
        If ``comparison`` lacks one of the attributes above.
    ValueError
        If a strategy other than the baseline has no efficiency, or targets
        and efficiencies differ in length.

    See Also
    --------
    plot_learning_curves : The curves the efficiency is read from.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> from skal.plotting import plot_labeling_efficiency
    >>> targets = np.array([.6, .7, .8])
    >>> comparison = SimpleNamespace(
    ...     names=["RandomSampling", "EntropySampling"], baseline="RandomSampling",
    ...     scoring="accuracy",
    ...     efficiency={"EntropySampling": (targets, np.array([1.2, 1.5, np.inf]))},
    ... )
    >>> ax = plot_labeling_efficiency(comparison)
    >>> [line.get_label() for line in ax.get_lines()]
    ['EntropySampling', 'RandomSampling (baseline)']
    >>> ax.get_lines()[0].get_ydata().tolist()  # inf is left out
    [1.2, 1.5]
    >>> ax.get_ylabel()
    'labeling efficiency vs random (×)'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    caller = "plot_labeling_efficiency"
    _check_attributes(comparison, ["names", "baseline", "efficiency", "scoring"], caller)
    names = _check_names(comparison, caller)
    baseline = _baseline_of(comparison, names, caller)
    curves = {}
    for name in names:
        if name == baseline:
            continue
        if name not in comparison.efficiency:
            raise ValueError(
                f"{caller}: comparison.efficiency has no entry for strategy {name!r} "
                f"(it has {sorted(comparison.efficiency)})."
            )
        targets, efficiency = (
            np.ravel(np.asarray(a, dtype=float)) for a in comparison.efficiency[name]
        )
        if targets.shape != efficiency.shape:
            raise ValueError(
                f"{caller}: comparison.efficiency[{name!r}] has {targets.size} targets but "
                f"{efficiency.size} efficiencies; they must pair up."
            )
        finite = np.isfinite(targets) & np.isfinite(efficiency)
        curves[name] = targets[finite], efficiency[finite]
    if ax is None:
        ax = _new_axes((7.0, 4.5))

    styles = _strategy_styles(names, baseline)
    for name, (targets, efficiency) in curves.items():
        label = name if targets.size else f"{name} (no finite value)"
        ax.plot(targets, efficiency, marker="o", markersize=4 if targets.size <= 30 else 0,
                linewidth=1.6, label=label, **styles[name])
    ax.axhline(1.0, linewidth=1.4, label=f"{baseline} (baseline)", zorder=1, **_BASELINE_STYLE)
    ax.set_title(f"Labeling efficiency (above 1: fewer labels than {baseline})")
    ax.set_xlabel(f"target {_score_label(comparison.scoring)}")
    ax.set_ylabel("labeling efficiency vs random (×)")
    ax.grid(alpha=0.3)
    _legend(ax, len(curves) + 1, "best")
    return ax


def plot_penalty_matrix(comparison, ax=None):
    """Plot how often each strategy beats each other one, as a heatmap.

    Cell (row, column) is the fraction of rounds in which the row strategy
    scored significantly higher than the column strategy (paired t-test over
    trials at the comparison's significance level ``alpha``), as in the
    pairwise penalty matrix of Ash et al. (BADGE, ICLR 2020). A good strategy
    has a light row and a dark column.

    Parameters
    ----------
    comparison : object
        The result of ``skal.model_selection.compare_strategies``. Reads
        ``names``, ``penalty`` and, if present, ``alpha`` (the t-test's
        significance level, shown in the title; 0.05 if absent).
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on. ``None`` creates a new figure. A colorbar is added
        next to it, in the same figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on, with one text per cell: the fraction, or ``–`` on
        the diagonal.

    Raises
    ------
    TypeError
        If ``comparison`` lacks one of the attributes above.
    ValueError
        If ``penalty`` is not of shape ``(len(names), len(names))``.

    See Also
    --------
    skal.metrics.penalty_matrix : The matrix itself, from per-trial curves.
    plot_learning_curves : The curves the comparison is made on.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> from skal.plotting import plot_penalty_matrix
    >>> comparison = SimpleNamespace(
    ...     names=["RandomSampling", "EntropySampling", "BADGE"],
    ...     penalty=np.array([[0.0, 0.1, 0.0], [0.6, 0.0, 0.1], [0.7, 0.3, 0.0]]),
    ... )
    >>> ax = plot_penalty_matrix(comparison)
    >>> [text.get_text() for text in ax.texts][:3]
    ['–', '0.10', '0.00']
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['RandomSampling', 'EntropySampling', 'BADGE']
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    caller = "plot_penalty_matrix"
    _check_attributes(comparison, ["names", "penalty"], caller)
    names = _check_names(comparison, caller)
    penalty = np.asarray(comparison.penalty, dtype=float)
    k = len(names)
    if penalty.shape != (k, k):
        raise ValueError(
            f"{caller}: comparison.penalty has shape {penalty.shape}; expected ({k}, {k}), "
            f"one row and one column per entry of comparison.names."
        )
    if ax is None:
        side = max(5.0, 1.6 + 0.75 * k)
        ax = _new_axes((side + 1.6, side))

    norm = Normalize(vmin=0.0, vmax=1.0)
    cmap = colormaps["viridis"].with_extremes(bad="0.85")
    shown = np.ma.masked_invalid(penalty)
    shown[np.diag_indices(k)] = np.ma.masked  # no strategy plays itself: a gray cell
    image = ax.imshow(shown, cmap=cmap, norm=norm)
    fontsize = 10 if k <= 6 else max(5.0, 60.0 / k)
    for i in range(k):
        for j in range(k):
            value = penalty[i, j]
            if i == j:
                text, color = "–", "0.3"
            elif not np.isfinite(value):
                text, color = "n/a", "black"
            else:
                r, g, b, _ = cmap(norm(value))
                text = f"{value:.2f}"
                color = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
            ax.text(j, i, text, ha="center", va="center", color=color, fontsize=fontsize)

    ax.set_xticks(range(k), names, rotation=35, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("column strategy (the one beaten)")
    ax.set_ylabel("row strategy (the winner)")
    alpha = getattr(comparison, "alpha", 0.05)
    ax.set_title(f"Row beats column\n(fraction of rounds, paired t-test α={alpha:g})")
    colorbar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label("fraction of rounds")
    return ax


def plot_time_breakdown(comparison, ax=None):
    """Plot, per strategy, the seconds per round spent fitting and querying.

    One horizontal bar per strategy, split into the mean time to fit the
    estimator and the mean time to query the next batch (rounds without a
    query, such as round 0, are left out of the latter), with the total at
    the end of the bar.

    Parameters
    ----------
    comparison : object
        The result of ``skal.model_selection.compare_strategies``. Reads
        ``names``, ``fit_times`` and ``query_times``.
    ax : matplotlib.axes.Axes, default=None
        Axes to draw on. ``None`` creates a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn on: ``2 * len(names)`` bars (fit, then query),
        strategies from top to bottom in ``comparison.names`` order.

    Raises
    ------
    TypeError
        If ``comparison`` lacks one of the attributes above.
    ValueError
        If a strategy has no fit or query times.

    See Also
    --------
    plot_learning_curves : What the time bought, per round.
    save_comparison_plots : This figure and the three others, as PNG files.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> from skal.plotting import plot_time_breakdown
    >>> comparison = SimpleNamespace(
    ...     names=["RandomSampling", "BADGE"],
    ...     fit_times={"RandomSampling": np.full((2, 3), 0.5), "BADGE": np.full((2, 3), 0.5)},
    ...     query_times={"RandomSampling": np.array([[np.nan, 0.001, 0.001]] * 2),
    ...                  "BADGE": np.array([[np.nan, 0.2, 0.4]] * 2)},
    ... )
    >>> ax = plot_time_breakdown(comparison)
    >>> [round(float(bar.get_width()), 3) for bar in ax.patches]  # fit, fit, query, query
    [0.5, 0.5, 0.001, 0.3]
    >>> ax.get_xlabel()
    'seconds per round (mean over rounds and trials)'
    >>> import matplotlib.pyplot as plt
    >>> plt.close(ax.figure)
    """
    caller = "plot_time_breakdown"
    _check_attributes(comparison, ["names", "fit_times", "query_times"], caller)
    names = _check_names(comparison, caller)
    fit_times = _per_strategy(comparison, "fit_times", names, caller)
    query_times = _per_strategy(comparison, "query_times", names, caller)
    fit = np.array([_nan_mean_std(fit_times[name])[0] for name in names])
    query = np.array([_nan_mean_std(query_times[name])[0] for name in names])
    if ax is None:
        ax = _new_axes((7.0, max(3.0, 1.4 + 0.45 * len(names))))

    y = np.arange(len(names))
    fit_drawn, query_drawn = np.nan_to_num(fit), np.nan_to_num(query)
    ax.barh(y, fit_drawn, height=0.6, color="C0", label="fit")
    bars = ax.barh(y, query_drawn, left=fit_drawn, height=0.6, color="C1", label="query")
    totals = [
        "n/a" if np.isnan(f) and np.isnan(q) else f"{np.nansum([f, q]):.3g} s"
        for f, q in zip(fit, query)
    ]
    ax.bar_label(bars, labels=totals, padding=3, fontsize="small")
    ax.margins(x=0.15)
    ax.set_xlim(left=0)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("seconds per round (mean over rounds and trials)")
    # title on the left and legend on the right, both above the bars: no bar is ever hidden
    ax.set_title("Time per round: fitting vs querying", loc="left")
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=2, frameon=False,
              fontsize="small", borderaxespad=0.2)
    return ax


# --------------------------------------------------------------------------- #
# all four, to files
# --------------------------------------------------------------------------- #

_FIGURES = {
    "learning_curves": (plot_learning_curves, (7.0, 4.5)),
    "labeling_efficiency": (plot_labeling_efficiency, (7.0, 4.5)),
    "penalty_matrix": (plot_penalty_matrix, None),
    "time_breakdown": (plot_time_breakdown, None),
}


def save_comparison_plots(comparison, folder, *, dpi=120):
    """Write the four comparison figures as PNG files into a folder.

    The figures are made without pyplot (no window opens, no backend is
    needed, nothing stays open), so this works on a headless machine.

    Parameters
    ----------
    comparison : object
        The result of ``skal.model_selection.compare_strategies``; every
        attribute listed in :mod:`skal.plotting` is read.
    folder : str or path-like
        Where to write; created (with its parents) if missing. Existing
        files of the same names are overwritten.
    dpi : int, default=120
        Resolution of the PNG files.

    Returns
    -------
    paths : dict of str to pathlib.Path
        ``"learning_curves"``, ``"labeling_efficiency"``, ``"penalty_matrix"``
        and ``"time_breakdown"``, each mapped to the ``<name>.png`` written.

    Raises
    ------
    TypeError
        If ``comparison`` lacks one of the attributes listed in
        :mod:`skal.plotting`.
    ValueError
        If an attribute is malformed (see each ``plot_*`` function).

    See Also
    --------
    plot_learning_curves : The first figure, drawn on given axes.
    plot_penalty_matrix : The pairwise comparison figure.

    Examples
    --------
    See the example in :mod:`skal.plotting`.
    """
    _check_attributes(
        comparison,
        ["names", "baseline", "n_labeled", "scores", "fit_times", "query_times",
         "efficiency", "penalty", "scoring"],
        "save_comparison_plots",
    )
    k = len(comparison.names)
    sizes = {
        "penalty_matrix": (max(5.0, 1.6 + 0.75 * k) + 1.6, max(5.0, 1.6 + 0.75 * k)),
        "time_breakdown": (7.0, max(3.0, 1.4 + 0.45 * k)),
    }
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, (plot, figsize) in _FIGURES.items():
        figure = Figure(figsize=figsize or sizes[name], layout="constrained")
        plot(comparison, ax=figure.add_subplot())
        paths[name] = folder / f"{name}.png"
        figure.savefig(paths[name], dpi=dpi, bbox_inches="tight")  # long names stay whole
        figure.clear()
    return paths


def plot_embedding(
    strategy,
    X,
    picks,
    *,
    y=None,
    method="landmark_mds",
    n_landmarks=500,
    n_annotated=20,
    random_state=None,
    ax=None,
):
    """Draw a strategy's picks on a 2-D map of what it selects on.

    The pool is mapped with :func:`skal.inspection.embedding_map` (landmark
    MDS by default, as the variable-batch study of BADGE does; PCA as an
    option); every pool sample is a small dot, each pick a larger marker with
    its rank written beside it for the first ``n_annotated``. With ``y``,
    samples and picks are coloured by class, so one sees at a glance which
    classes a batch covers.

    Parameters
    ----------
    strategy : fitted strategy
        The strategy whose space is drawn (BADGE: its gradient embedding;
        CoreSet: the penultimate embedding; score-based strategies: the
        estimator's penultimate embedding).
    X : pool
        The pool, as ``query`` takes it.
    picks : array-like of int
        Positions in ``X`` in rank order, e.g. ``strategy.query(X, 50)``.
    y : array-like of shape (n_samples,), default=None
        Labels of the pool (true labels in a simulation, or predictions), for
        the colours.
    method : {"landmark_mds", "pca"}, default="landmark_mds"
        See :func:`skal.inspection.embedding_map`.
    n_landmarks : int, default=500
        Landmark MDS only: number of landmarks.
    n_annotated : int, default=20
        How many of the first picks get their rank written beside them.
    random_state : int, RandomState instance or None, default=None
        Seed of the map's landmarks.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure if None.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    See Also
    --------
    skal.inspection.picks_summary : The picks counted per class.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skal import BADGE
    >>> from skal.plotting import plot_embedding
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = LogisticRegression(max_iter=300).fit(X[:100], y[:100])
    >>> badge = BADGE(clf, prefit=True, random_state=0)
    >>> picks = badge.query(X[100:600], batch_size=20)
    >>> ax = plot_embedding(badge, X[100:600], picks, y=y[100:600], random_state=0)
    >>> len(ax.texts)  # the ranks of the first 20 picks
    20
    """
    from .inspection import _check_picks, embedding_map

    if not isinstance(n_annotated, int) or n_annotated < 0:
        raise ValueError(f"n_annotated={n_annotated!r} must be a non-negative integer.")
    coords = embedding_map(
        strategy, X, method=method, n_landmarks=n_landmarks, random_state=random_state
    )
    picks = _check_picks(picks, len(coords))
    if ax is None:
        ax = _new_axes((6.4, 5.2))
    if y is not None:
        y = np.asarray(y)
        if len(y) != len(coords):
            raise ValueError(f"y has {len(y)} labels but X has {len(coords)} samples.")
        classes, codes = np.unique(y, return_inverse=True)
        cmap = colormaps["tab10" if classes.size <= 10 else "tab20"]
        colors = cmap(codes % cmap.N)
    else:
        classes, colors = None, np.tile(np.array([[0.2, 0.4, 0.8, 1.0]]), (len(coords), 1))
    faint = colors.copy()
    faint[:, 3] = 0.25
    ax.scatter(coords[:, 0], coords[:, 1], s=6, c=faint, linewidths=0)
    ax.scatter(
        coords[picks, 0], coords[picks, 1], s=60, c=colors[picks], marker="o",
        edgecolors="black", linewidths=0.8, zorder=3,
    )
    for rank, i in enumerate(picks[:n_annotated], start=1):
        ax.annotate(
            str(rank), coords[i], xytext=(4, 4), textcoords="offset points",
            fontsize=7, zorder=4,
        )
    if classes is not None:
        from matplotlib.lines import Line2D

        cmap_colors = colormaps["tab10" if classes.size <= 10 else "tab20"]
        handles = [
            Line2D([], [], marker="o", linestyle="", color=cmap_colors(k % cmap_colors.N),
                   label=str(c))
            for k, c in enumerate(classes)
        ]
        _legend_at(ax, handles)
    space = {"landmark_mds": "landmark MDS", "pca": "PCA"}[method]
    ax.set_title(f"{type(strategy).__name__}: first {picks.size} picks ({space})")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax


def _legend_at(ax, handles):
    ax.legend(handles=handles, title="class", fontsize="small", loc="center left",
              bbox_to_anchor=(1.0, 0.5), frameon=False)
