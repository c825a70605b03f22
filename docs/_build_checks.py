"""Checks of the built documentation, run when Sphinx finishes (see conf.py).

- **Dead internal links:** every ``href="page.html#anchor"`` of the built HTML must
  point to a page that exists and to an ``id`` (or ``name``) on it. A broken one is
  a Sphinx warning, so ``-W`` fails the build.
- **Gallery budget:** every gallery example must run in under a minute on CI's
  machine; an example over ``GALLERY_BUDGET`` seconds in sphinx-gallery's
  execution times is a warning too.
"""

import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

GALLERY_BUDGET = 60.0  # seconds per example

_ID = re.compile(r'\b(?:id|name)="([^"]+)"')
_HREF = re.compile(r'\bhref="([^"]+)"')


def dead_links(html_root):
    """``[(page, link)]``: internal links of the HTML under ``html_root`` that lead nowhere.

    A link leads nowhere when its page does not exist, or when its fragment is not an
    ``id``/``name`` on that page. External links (with a scheme or a host) and links
    without a fragment to an existing page are not checked.
    """
    root = Path(html_root).resolve()
    pages = {path.resolve(): path.read_text(errors="replace") for path in root.rglob("*.html")}
    ids = {path: set(_ID.findall(text)) for path, text in pages.items()}
    dead = []
    for path, text in pages.items():
        for link in _HREF.findall(text):
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:")):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.suffix != ".html" and not parts.fragment:
                continue  # downloads, images: Sphinx copies them itself
            if target not in ids:
                if target.suffix == ".html":
                    dead.append((str(path.relative_to(root)), link))
                continue
            if parts.fragment and unquote(parts.fragment) not in ids[target]:
                dead.append((str(path.relative_to(root)), link))
    return sorted(set(dead))


def slow_examples(times_rst, budget=GALLERY_BUDGET):
    """``[(example, seconds)]`` over ``budget`` in sphinx-gallery's execution-times table."""
    text = Path(times_rst).read_text() if Path(times_rst).is_file() else ""
    rows = re.findall(r"``([^`]+\.py)``\)\s*\n\s*- (\d+):(\d+(?:\.\d+)?)", text)
    return [(name, int(m) * 60 + float(s)) for name, m, s in rows
            if int(m) * 60 + float(s) > budget]


def check_build(app, exception):
    """Sphinx ``build-finished``: warn for dead links and slow gallery examples."""
    from sphinx.util import logging

    if exception is not None or app.builder.format != "html":
        return
    logger = logging.getLogger(__name__)
    for page, link in dead_links(app.outdir):
        logger.warning(f"dead internal link in {page}: {link}")
    for times in (Path(app.srcdir) / "sg_execution_times.rst",
                  Path(app.srcdir) / "auto_examples" / "sg_execution_times.rst"):
        for name, seconds in slow_examples(times):
            logger.warning(f"gallery example {name} took {seconds:.0f} s, over the "
                           f"{GALLERY_BUDGET:.0f} s budget: make it lighter")
