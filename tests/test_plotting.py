"""skal.plotting: what each figure draws, missing values, bad input, the PNG files.

The comparison objects are ``SimpleNamespace``s with the attributes
``skal.model_selection.compare_strategies`` returns, filled with synthetic
learning curves (saturating exponentials plus noise).
"""

import struct
import warnings
from types import SimpleNamespace

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from skal.plotting import (
    plot_labeling_efficiency,
    plot_learning_curves,
    plot_penalty_matrix,
    plot_time_breakdown,
    save_comparison_plots,
)

LONG_NAMES = [
    "RandomSampling", "EntropySampling", "LeastConfidence", "MarginSampling", "BADGE", "CoreSet",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make_comparison(names=("RandomSampling", "EntropySampling", "BADGE"), n_trials=5,
                    n_rounds=10, baseline="RandomSampling", seed=0):
    """A plausible comparison: every strategy saturates at 0.95, faster than random."""
    names = list(names)
    rng = np.random.default_rng(seed)
    n_labeled = 20 + 20 * np.arange(n_rounds)
    speed = {name: 1.0 if name == baseline else 1.2 + 0.25 * i for i, name in enumerate(names)}
    scores, fit_times, query_times, efficiency = {}, {}, {}, {}
    targets = np.linspace(0.55, 0.93, 12)
    for name in names:
        curve = 0.95 - 0.6 * np.exp(-speed[name] * n_labeled / 60)
        scores[name] = np.clip(curve + rng.normal(0, 0.015, (n_trials, n_rounds)), 0, 1)
        fit_times[name] = 0.3 + 0.002 * n_labeled + rng.uniform(0, 0.02, (n_trials, n_rounds))
        query = {baseline: 1e-4, "BADGE": 0.8, "CoreSet": 0.5}.get(name, 0.05)
        query_times[name] = query * rng.uniform(0.8, 1.2, (n_trials, n_rounds))
        query_times[name][:, 0] = np.nan
        # the gain grows with the target, as labels get scarcer for random sampling
        ratio = 1 + (speed[name] - 1) * (0.6 + 2.5 * (targets - targets[0]))
        if name != baseline:
            ratio[-1] = np.inf  # the baseline never reached the top target
            ratio[-2] = np.nan
        efficiency[name] = (targets, ratio)
    strength = np.array([speed[name] for name in names])
    penalty = np.clip(0.5 + (strength[:, None] - strength[None, :]), 0, 1) * (
        strength[:, None] > strength[None, :]
    )
    return SimpleNamespace(
        names=names, baseline=baseline, n_labeled=n_labeled, scores=scores,
        fit_times=fit_times, query_times=query_times, efficiency=efficiency,
        penalty=penalty, scoring="accuracy",
    )


@pytest.fixture
def comparison():
    return make_comparison()


@pytest.fixture
def ax():
    """Axes of a figure made without pyplot (nothing to close)."""
    return Figure(layout="constrained").add_subplot()


def legend_labels(ax):
    legend = ax.get_legend()
    assert legend is not None, "no legend"
    return [text.get_text() for text in legend.get_texts()]


# --------------------------------------------------------------------------- #
# learning curves
# --------------------------------------------------------------------------- #


def test_learning_curves_one_line_and_band_per_strategy(comparison, ax):
    assert plot_learning_curves(comparison, ax=ax) is ax
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == comparison.names
    assert len(ax.collections) == len(comparison.names)  # the ±1 std bands
    assert legend_labels(ax) == comparison.names
    for line, name in zip(lines, comparison.names):
        np.testing.assert_array_equal(line.get_xdata(), comparison.n_labeled)
        np.testing.assert_allclose(line.get_ydata(), comparison.scores[name].mean(axis=0))
    assert ax.get_xlabel() == "number of labeled samples"
    assert "accuracy" in ax.get_ylabel()
    assert "5 trials" in ax.get_title()


def test_learning_curves_band_is_one_std(comparison, ax):
    plot_learning_curves(comparison, ax=ax)
    name = comparison.names[1]
    band = ax.collections[1].get_paths()[0].vertices
    mean, std = comparison.scores[name].mean(0), comparison.scores[name].std(0)
    assert band[:, 1].min() == pytest.approx((mean - std).min())
    assert band[:, 1].max() == pytest.approx((mean + std).max())


def test_learning_curves_baseline_stands_out_and_colors_are_shared(comparison):
    curves = plot_learning_curves(comparison, ax=Figure().add_subplot())
    efficiency = plot_labeling_efficiency(comparison, ax=Figure().add_subplot())
    by_name = {line.get_label(): line for line in curves.get_lines()}
    assert by_name["RandomSampling"].get_linestyle() == "--"
    for line in efficiency.get_lines()[:-1]:  # a strategy keeps its color across figures
        assert to_rgba(line.get_color()) == to_rgba(by_name[line.get_label()].get_color())


def test_learning_curves_ignore_nan_trials(ax):
    comparison = make_comparison()
    scores = comparison.scores["BADGE"]
    scores[0] = np.nan  # a failed trial
    scores[:, 3] = np.nan  # a round nobody finished
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Mean of empty slice" for the round nobody finished
        plot_learning_curves(comparison, ax=ax)
    badge = ax.get_lines()[2].get_ydata()
    np.testing.assert_allclose(np.delete(badge, 3), np.delete(scores[1:].mean(0), 3))
    assert np.isnan(badge[3])
    assert "4–5 trials" in ax.get_title()  # BADGE has 4 trials with scores, the others 5
    ax.figure.canvas.draw()  # renders with the gap


def test_learning_curves_single_trial_title(ax):
    comparison = make_comparison(n_trials=1)
    plot_learning_curves(comparison, ax=ax)
    assert ax.get_title() == "Learning curves (1 trial)"


def test_learning_curves_new_figure_when_no_axes(comparison):
    ax = plot_learning_curves(comparison)
    try:
        assert isinstance(ax, Axes)
        assert len(ax.get_lines()) == 3
    finally:
        plt.close(ax.figure)


# --------------------------------------------------------------------------- #
# labeling efficiency
# --------------------------------------------------------------------------- #


def test_efficiency_one_line_per_strategy_and_baseline_at_one(comparison, ax):
    assert plot_labeling_efficiency(comparison, ax=ax) is ax
    lines = ax.get_lines()
    assert len(lines) == len(comparison.names)  # k - 1 strategies + the baseline line
    assert [line.get_label() for line in lines[:-1]] == ["EntropySampling", "BADGE"]
    baseline = lines[-1]
    assert baseline.get_label() == "RandomSampling (baseline)"
    assert baseline.get_linestyle() == "--"
    np.testing.assert_array_equal(baseline.get_ydata(), [1, 1])
    assert legend_labels(ax) == [line.get_label() for line in lines]
    assert ax.get_xlabel() == "target test accuracy"
    assert ax.get_ylabel() == "labeling efficiency vs random (×)"


def test_efficiency_draws_only_finite_values(comparison, ax):
    plot_labeling_efficiency(comparison, ax=ax)
    for line in ax.get_lines()[:-1]:
        targets, efficiency = comparison.efficiency[line.get_label()]
        assert len(line.get_xdata()) == np.isfinite(efficiency).sum() == len(targets) - 2
        assert np.all(np.isfinite(line.get_ydata()))
    assert np.all(np.isfinite(ax.get_ylim()))


def test_efficiency_without_any_finite_value(comparison, ax):
    targets, _ = comparison.efficiency["BADGE"]
    comparison.efficiency["BADGE"] = (targets, np.full_like(targets, np.inf))
    plot_labeling_efficiency(comparison, ax=ax)
    assert "BADGE (no finite value)" in legend_labels(ax)


def test_efficiency_does_not_need_the_baseline_entry(comparison, ax):
    del comparison.efficiency["RandomSampling"]
    plot_labeling_efficiency(comparison, ax=ax)
    assert len(ax.get_lines()) == 3


# --------------------------------------------------------------------------- #
# penalty matrix
# --------------------------------------------------------------------------- #


def test_penalty_matrix_annotates_every_cell(comparison, ax):
    assert plot_penalty_matrix(comparison, ax=ax) is ax
    k = len(comparison.names)
    assert len(ax.images) == 1
    texts = ax.texts
    assert len(texts) == k * k
    for text in texts:
        j, i = (round(c) for c in text.get_position())
        expected = "–" if i == j else f"{comparison.penalty[i, j]:.2f}"
        assert text.get_text() == expected
    assert [t.get_text() for t in ax.get_xticklabels()] == comparison.names
    assert [t.get_text() for t in ax.get_yticklabels()] == comparison.names
    assert all(t.get_rotation() > 0 for t in ax.get_xticklabels())
    assert "row beats column" in ax.get_title().lower()
    assert "α=0.05" in ax.get_title()
    assert len(ax.figure.axes) == 2  # the colorbar


def test_penalty_matrix_text_readable_on_dark_and_light_cells(ax):
    comparison = make_comparison(names=["RandomSampling", "BADGE"])
    comparison.penalty = np.array([[0.0, 0.02], [0.98, 0.0]])
    plot_penalty_matrix(comparison, ax=ax)
    colors = {text.get_text(): to_rgba(text.get_color()) for text in ax.texts}
    # viridis is dark purple at 0 and light yellow at 1
    assert colors["0.02"] == to_rgba("white")
    assert colors["0.98"] == to_rgba("black")


def test_penalty_matrix_title_shows_the_comparisons_alpha(comparison, ax):
    comparison.alpha = 0.01  # compare_strategies(alpha=...) records it
    plot_penalty_matrix(comparison, ax=ax)
    assert "α=0.01" in ax.get_title()


def test_penalty_matrix_nan_cell(comparison, ax):
    comparison.penalty[0, 1] = np.nan
    plot_penalty_matrix(comparison, ax=ax)
    assert "n/a" in [text.get_text() for text in ax.texts]


# --------------------------------------------------------------------------- #
# time breakdown
# --------------------------------------------------------------------------- #


def test_time_breakdown_stacked_bars(comparison, ax):
    assert plot_time_breakdown(comparison, ax=ax) is ax
    k = len(comparison.names)
    bars = ax.patches
    assert len(bars) == 2 * k
    fit, query = bars[:k], bars[k:]
    for i, name in enumerate(comparison.names):
        assert fit[i].get_width() == pytest.approx(comparison.fit_times[name].mean())
        # round 0 (NaN: no query) is left out of the mean
        assert query[i].get_width() == pytest.approx(
            comparison.query_times[name][:, 1:].mean()
        )
        assert query[i].get_x() == pytest.approx(fit[i].get_width())  # stacked
    assert legend_labels(ax) == ["fit", "query"]
    assert "seconds per round" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_yticklabels()] == comparison.names
    assert len(ax.texts) == k and all(t.get_text().endswith(" s") for t in ax.texts)


def test_time_breakdown_strategy_without_times(comparison, ax):
    comparison.query_times["BADGE"][:] = np.nan
    comparison.fit_times["BADGE"][:] = np.nan
    plot_time_breakdown(comparison, ax=ax)
    assert ax.texts[2].get_text() == "n/a"


# --------------------------------------------------------------------------- #
# every function: Axes in, Axes out; bad input
# --------------------------------------------------------------------------- #

PLOTS = [plot_learning_curves, plot_labeling_efficiency, plot_penalty_matrix, plot_time_breakdown]


@pytest.mark.parametrize("plot", PLOTS)
def test_new_figure_when_ax_is_none(plot, comparison):
    ax = plot(comparison)
    try:
        assert isinstance(ax, Axes)
        assert ax.has_data()
    finally:
        plt.close(ax.figure)


@pytest.mark.parametrize("plot", PLOTS)
def test_draws_on_a_given_subplot_only(plot, comparison):
    figure = Figure(layout="constrained")
    left, right = figure.subplots(1, 2)
    assert plot(comparison, ax=right) is right
    assert not left.has_data()


@pytest.mark.parametrize("plot", PLOTS + [lambda c, ax=None: save_comparison_plots(c, "unused")])
def test_not_a_comparison(plot):
    with pytest.raises(TypeError, match="compare_strategies"):
        plot(SimpleNamespace(names=["a"]))


def test_missing_strategy_is_named(comparison, ax):
    del comparison.scores["BADGE"]
    with pytest.raises(ValueError, match="comparison.scores has no entry for strategy 'BADGE'"):
        plot_learning_curves(comparison, ax=ax)


def test_scores_not_matching_n_labeled(comparison, ax):
    comparison.n_labeled = comparison.n_labeled[:-1]
    with pytest.raises(ValueError, match=r"shape \(5, 10\); expected \(n_trials, 9\)"):
        plot_learning_curves(comparison, ax=ax)


def test_unknown_baseline(comparison, ax):
    comparison.baseline = "Random"
    with pytest.raises(ValueError, match="'Random' is not one of comparison.names"):
        plot_labeling_efficiency(comparison, ax=ax)


def test_penalty_of_the_wrong_shape(comparison, ax):
    comparison.penalty = comparison.penalty[:2, :2]
    with pytest.raises(ValueError, match=r"shape \(2, 2\); expected \(3, 3\)"):
        plot_penalty_matrix(comparison, ax=ax)


def test_efficiency_targets_and_values_must_pair(comparison, ax):
    targets, efficiency = comparison.efficiency["BADGE"]
    comparison.efficiency["BADGE"] = (targets, efficiency[:-1])
    with pytest.raises(ValueError, match="12 targets but 11 efficiencies"):
        plot_labeling_efficiency(comparison, ax=ax)


# --------------------------------------------------------------------------- #
# save_comparison_plots
# --------------------------------------------------------------------------- #


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_save_writes_four_pngs(tmp_path):
    comparison = make_comparison(names=LONG_NAMES)
    comparison.scores["BADGE"][0] = np.nan
    folder = tmp_path / "new" / "figures"
    open_before = plt.get_fignums()
    paths = save_comparison_plots(comparison, folder)
    assert plt.get_fignums() == open_before  # no pyplot figure left open
    assert set(paths) == {
        "learning_curves", "labeling_efficiency", "penalty_matrix", "time_breakdown"
    }
    for name, path in paths.items():
        assert path == folder / f"{name}.png"
        assert path.stat().st_size > 10_000  # more than a blank canvas
        width, height = png_size(path)
        assert 300 < width < 2000 and 300 < height < 2000


def test_save_accepts_a_string_and_overwrites(tmp_path, comparison):
    first = save_comparison_plots(comparison, str(tmp_path))
    second = save_comparison_plots(comparison, str(tmp_path))
    assert first == second
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in first.values())


def test_saving_leaves_the_backend_alone(tmp_path, comparison):
    backend = matplotlib.get_backend()
    save_comparison_plots(comparison, tmp_path)
    assert matplotlib.get_backend() == backend


@pytest.mark.parametrize("plot", [plot_learning_curves, plot_labeling_efficiency])
def test_many_strategies_stay_distinguishable_and_the_legend_leaves_the_data(plot, ax):
    names = ["RandomSampling"] + [f"Strategy{i}" for i in range(13)]
    comparison = make_comparison(names=names)
    plot(comparison, ax=ax)
    lines = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    others = [line for line in lines if not line.get_label().startswith("RandomSampling")]
    assert len(others) == 13
    styles = {(to_rgba(line.get_color()), line.get_linestyle()) for line in others}
    assert len(styles) == 13  # no two strategies look alike
    legend = ax.get_legend()
    assert len(legend.get_texts()) == len(lines)
    anchor = legend.get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert anchor.x0 > 1.0  # beside the axes, not over the curves


def test_few_strategies_keep_the_legend_inside(comparison, ax):
    plot_learning_curves(comparison, ax=ax)
    anchor = ax.get_legend().get_bbox_to_anchor().transformed(ax.transAxes.inverted())
    assert anchor.x0 <= 0.0 + 1e-9
