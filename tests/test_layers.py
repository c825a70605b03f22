"""The package map holds: each layer imports only from the layers below it.

The layers, lowest first, are written down in CONTRIBUTING.md ("The package
map"). A module may import from its own layer and the layers below; an import
from above it (e.g. a strategy importing the learner, or the engine importing
an estimator helper) fails here, with the edge that breaks the map.
"""

import ast
from pathlib import Path

import pytest

SKAL = Path(__file__).resolve().parents[1] / "skal"

# lowest first; a module is in the layer of its longest matching prefix
LAYERS = [
    ("foundation", ["skal.exceptions", "skal._config", "skal.utils"]),
    ("engine, scores, estimators, data",
     ["skal.selection", "skal.uncertainty", "skal.embeddings", "skal.datasets", "skal.toy",
      "skal.labeling"]),
    ("strategy kit", ["skal.base"]),
    ("strategies", ["skal.strategies"]),
    ("rounds", ["skal.stopping", "skal._rounds", "skal.learner", "skal.metrics"]),
    ("evaluation and views", ["skal.model_selection", "skal.inspection", "skal.plotting"]),
    ("entry points", ["skal.__main__", "skal._cli", "skal"]),
]

# within the rounds layer: stopping criteria are below the learner, metrics
# are pure functions of curves and know no learner
BELOW = {("skal.stopping", "skal.learner"), ("skal.metrics", "skal.learner"),
         ("skal.metrics", "skal.stopping"), ("skal._rounds", "skal.learner"),
         ("skal.stopping", "skal._rounds")}


def _layer(module):
    best, layer = -1, None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, layer = len(prefix), rank
    return layer


def _modules():
    for path in sorted(SKAL.rglob("*.py")):
        parts = list(path.relative_to(SKAL.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _imports(module, path):
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("skal"):
                names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
                yield from names
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("skal"))


MODULES = list(_modules())


@pytest.mark.parametrize("module, path", MODULES, ids=[m for m, _ in MODULES])
def test_imports_go_down_the_layers(module, path):
    own = _layer(module)
    assert own is not None, f"{module} is in no layer; add it to LAYERS and CONTRIBUTING.md"
    for target in _imports(module, path):
        if target == module:
            continue
        if (module, target) in BELOW or any(
            module == a and target.startswith(b) for a, b in BELOW
        ):
            pytest.fail(f"{module} imports {target}, which is above it")
        layer = _layer(target)
        assert layer is not None and layer <= own, (
            f"{module} ({LAYERS[own][0]}) imports {target} "
            f"({LAYERS[layer][0] if layer is not None else 'no layer'}), a layer above it"
        )


def test_the_map_in_contributing_lists_every_layer():
    text = (SKAL.parent / "CONTRIBUTING.md").read_text()
    for _, prefixes in LAYERS:
        for prefix in prefixes:
            if prefix != "skal":
                assert f"`{prefix.replace('skal.', '')}" in text, prefix
