"""The docs build's own checks (docs/_build_checks.py): dead internal links, slow examples.

The build (``python -m sphinx -W``) runs them when it finishes and turns what they find
into warnings, so errors; here they are checked on small HTML trees.
"""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS))

from _build_checks import dead_links, slow_examples  # noqa: E402


def test_dead_links_finds_missing_pages_and_anchors(tmp_path):
    (tmp_path / "generated").mkdir()
    (tmp_path / "api.html").write_text(
        '<section id="module-skal.metrics"><a href="#module-skal.base">base</a>'
        '<a href="#module-skal.metrics">ok</a><a href="https://x.org/#nope">out</a></section>')
    (tmp_path / "generated" / "f.html").write_text(
        '<a href="../api.html#module-skal.metrics">ok</a>'
        '<a href="../api.html#module-skal.stopping">dead</a>'
        '<a href="../gone.html">missing page</a><a href="../api.html">no fragment</a>'
        '<a href="../_images/plot.png">image</a><span name="anchor"></span>'
        '<a href="#anchor">by name</a>')
    assert dead_links(tmp_path) == [
        ("api.html", "#module-skal.base"),
        ("generated/f.html", "../api.html#module-skal.stopping"),
        ("generated/f.html", "../gone.html"),
    ]


def test_the_api_reference_gives_every_module_a_target():
    """The cause of the dead ``api.html#module-skal.*`` links: a ``.. module::``
    directive after a paragraph gets no id; each must follow its title directly."""
    lines = (DOCS / "api.rst").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith(".. module:: "):
            assert set(lines[i - 2]) == {"="} and not lines[i - 1], lines[i - 3:i + 1]


def test_slow_examples_reads_sphinx_gallery_times(tmp_path):
    (tmp_path / "sg_execution_times.rst").write_text(
        "   * - :ref:`a` (``../examples/plot_a.py``)\n     - 01:03.500\n     - 0.0\n"
        "   * - :ref:`b` (``../examples/plot_b.py``)\n     - 00:59.900\n     - 0.0\n")
    assert slow_examples(tmp_path / "sg_execution_times.rst") == [
        ("../examples/plot_a.py", 63.5)]
    assert slow_examples(tmp_path / "none.rst") == []
