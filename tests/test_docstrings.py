"""Every public docstring passes numpydoc's validation, as scikit-learn's do.

Checked: every name in a public module's ``__all__`` (the names that have a page in
the API reference, see ``tests/test_api_reference.py``) and, for classes, every
public method and property skal defines (methods inherited from scikit-learn,
skorch or torch are theirs to document). The checks are numpydoc's
(https://numpydoc.readthedocs.io/en/latest/validation.html), with the exceptions
scikit-learn's ``sklearn/tests/test_docstrings.py`` makes:

- always ignored: GL01 (summary on the line after the quotes), GL02 (blank line
  before the closing quotes), RT02 (a Returns entry may name the returned object);
- for methods and properties: ES01, SA01 and EX01 (extended summary, See Also and
  Examples are asked of classes and functions, not of each method);
- for exceptions and warnings: ES01, SA01 and EX01 too (scikit-learn does not
  validate its exceptions; a one-paragraph docstring saying when it is raised is enough);
- for properties: PR02 and GL08 (a property has no signature to check).
"""

import inspect

import pytest

from tests.test_api_reference import NOT_PAGES, public_names

numpydoc_validation = pytest.importorskip("numpydoc.validate")

ALWAYS_IGNORED = {"GL01", "GL02", "RT02"}
TOP_LEVEL_ONLY = {"ES01", "SA01", "EX01"}
PROPERTY_IGNORED = {"PR02", "GL08"}


def _defined_in_skal(obj):
    obj = getattr(obj, "fget", obj)
    obj = getattr(obj, "__func__", obj)
    return (getattr(obj, "__module__", None) or "").split(".")[0] == "skal"


def documented_objects():
    """(import path, kind) of every public docstring, each object once."""
    seen, found = set(), []
    for dotted, obj in public_names():
        if dotted in NOT_PAGES or id(obj) in seen:
            continue
        seen.add(id(obj))
        if inspect.isclass(obj) and issubclass(obj, BaseException):
            found.append((dotted, "exception"))
            continue
        found.append((dotted, "top"))
        if not inspect.isclass(obj):
            continue
        for name, member in inspect.getmembers(obj):
            if name.startswith("_") or not _defined_in_skal(member):
                continue
            raw = inspect.getattr_static(obj, name)
            kind = "property" if isinstance(raw, property) else "method"
            if kind == "method" and not callable(member):
                continue
            key = id(getattr(raw, "fget", getattr(raw, "__func__", raw)))
            if key in seen:  # inherited from a class already checked
                continue
            seen.add(key)
            found.append((f"{dotted}.{name}", kind))
    return found


def filter_errors(errors, kind):
    for code, message in errors:
        if code in ALWAYS_IGNORED:
            continue
        if kind in ("method", "property", "exception") and code in TOP_LEVEL_ONLY:
            continue
        if kind == "property" and code in PROPERTY_IGNORED:
            continue
        yield code, message


OBJECTS = documented_objects()


@pytest.mark.parametrize("import_path, kind", OBJECTS, ids=[path for path, _ in OBJECTS])
def test_docstring(import_path, kind):
    try:
        result = numpydoc_validation.validate(import_path)
    except Exception as exc:  # e.g. a property built by a factory: no source line to find
        pytest.fail(f"numpydoc cannot validate {import_path}: {type(exc).__name__}: {exc}")
    errors = list(filter_errors(result["errors"], kind))
    if errors:
        msg = "\n".join(f"{code}: {message}" for code, message in errors)
        raise AssertionError(f"{import_path} ({result['file']}:{result['file_line']}):\n{msg}")


def test_the_checked_set_is_the_api():
    paths = [path for path, _ in OBJECTS]
    assert "skal.BADGE" in paths and "skal.metrics.labeling_efficiency" in paths
    assert any(path.endswith(".query") for path in paths)  # methods too
    assert len(paths) == len(set(paths))
