"""Every public name has a page in the API reference (docs/api.rst), and every entry there exists.

A public module is any module of the ``skal`` package whose dotted name has no
component starting with ``_``; its public names are its ``__all__``. A name
re-exported by several modules (``skal.BADGE`` is ``skal.strategies.BADGE``) needs
one entry, under any of them. To document a new name, add it to the autosummary
table of its module in docs/api.rst.
"""

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import skal

API_RST = Path(__file__).resolve().parents[1] / "docs" / "api.rst"

# Names in a public ``__all__`` that are not API pages: the version string, and the
# command line (``python -m skal``), documented in README.md and docs/labeling.md.
NOT_PAGES = {"skal.__version__", "skal.__main__.main"}


def public_modules():
    names = ["skal"]
    for info in pkgutil.walk_packages(skal.__path__, prefix="skal."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    names.append("skal.__main__")  # its __all__ is checked against NOT_PAGES
    return sorted(names)


def documented_entries():
    """``module.name`` of every autosummary entry in docs/api.rst, in order."""
    entries, module, in_table = [], None, False
    for line in API_RST.read_text().splitlines():
        directive = re.match(r"\.\. (?:py:)?(?:current)?module:: (\S+)", line)
        if directive:
            module = directive.group(1)
            continue
        if line.startswith(".. autosummary::"):
            in_table = True
            continue
        if in_table:
            if not line.strip() or line.strip().startswith(":"):
                continue
            if not line.startswith("   "):
                in_table = False
                continue
            assert module is not None, f"autosummary entry {line.strip()} before any module"
            entries.append(f"{module}.{line.strip()}")
    return entries


def resolve(dotted):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def public_names():
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            yield f"{module_name}.{name}", getattr(module, name)


def test_the_reference_lists_tables():
    entries = documented_entries()
    assert "skal.BADGE" in entries and "skal.selection.OuterProduct" in entries
    assert len(entries) == len(set(entries)), "a name is listed twice in docs/api.rst"


@pytest.mark.parametrize("entry", documented_entries())
def test_every_entry_exists(entry):
    resolve(entry)  # raises when the name was removed or renamed


def test_every_public_name_has_a_page():
    documented = {id(resolve(entry)) for entry in documented_entries()}
    missing = [dotted for dotted, obj in public_names()
               if dotted not in NOT_PAGES and id(obj) not in documented]
    assert not missing, (
        f"public names without an entry in docs/api.rst: {missing}; add each to the "
        "autosummary table of its module there")


def test_every_entry_is_public():
    exported = {id(obj) for _, obj in public_names()}
    private = [entry for entry in documented_entries() if id(resolve(entry)) not in exported]
    assert not private, f"docs/api.rst documents names no public __all__ exports: {private}"
