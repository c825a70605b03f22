"""The gallery's reading order (sphinx-gallery's ``within_subsection_order``)."""

from pathlib import Path

# From first contact to evaluation; examples not listed here come last, by file name.
ORDER = [
    "plot_quickstart_digits.py",
    "plot_grid_search_strategies.py",
    "plot_variable_batches.py",
    "plot_compare_strategies.py",
    "plot_badge_mnist_first_picks.py",
]


class ReadingOrder:
    """Sort key: the position of an example in ``ORDER``."""

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __call__(self, filename):
        name = Path(filename).name
        return (ORDER.index(name), "") if name in ORDER else (len(ORDER), name)
