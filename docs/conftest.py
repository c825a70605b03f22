"""pytest collects docs/ for the Markdown pages' doctests, and nothing else here.

``conf.py`` and ``_gallery_order.py`` configure Sphinx; they are not modules to
import under pytest. What a docs build generates (``_build``, the gallery's
``auto_examples``, autosummary's ``generated``) is not source.
"""

collect_ignore = ["conf.py", "_gallery_order.py"]
collect_ignore_glob = ["_build/*", "auto_examples/*", "generated/*", "gen_modules/*",
                       "_templates/*", "results/*"]
