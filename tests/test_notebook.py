"""The quickstart, executed as a notebook in a Jupyter kernel (nbclient).

What a notebook user sees: no cell prints a warning (``compare_strategies``'
progress bar is plain text without ipywidgets, and tqdm's "IProgress not
found" never appears), ``summary()`` shows as an HTML table, and a
``StrategyComparison`` has an HTML repr.
"""

import json
import sys
from pathlib import Path


NOTEBOOK = Path(__file__).parent / "notebooks" / "quickstart.ipynb"


def _kernel_spec(tmp_path):
    """A kernel spec that runs this very interpreter, found through JUPYTER_PATH.

    ipykernel's own ``python3`` spec may be shadowed by a user-level one that
    points at another Python; this one cannot be.
    """
    spec = tmp_path / "jupyter" / "kernels" / "skal-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "skal test (this Python)",
        "language": "python",
    }))
    return tmp_path / "jupyter"


def _text(output):
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else text


def test_quickstart_notebook_runs_without_warnings(tmp_path, monkeypatch):
    import nbclient  # test dependencies (setup.py's test extra): a missing one fails
    import nbformat

    monkeypatch.setenv("JUPYTER_PATH", str(_kernel_spec(tmp_path)))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    # debugpy's notice about Python 3.11's frozen modules, printed by the kernel
    monkeypatch.setenv("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="skal-test", timeout=120, startup_timeout=60,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()

    cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    for cell in cells:
        for output in cell.outputs:
            assert output.output_type != "error", "\n".join(output.traceback)
            if output.output_type == "stream" and output.name == "stderr":
                assert "Warning" not in _text(output), (cell.source, _text(output))

    prefix = cells[0].outputs[0]["data"]["text/plain"]
    assert Path(prefix.strip("'\"")).resolve() == Path(sys.prefix).resolve()

    # the progress bar: plain text without ipywidgets, a widget with them
    compare = next(c for c in cells if "compare_strategies(" in c.source)
    stderr = "".join(_text(o) for o in compare.outputs if o.get("name") == "stderr")
    widgets = [o for o in compare.outputs if "application/vnd.jupyter.widget-view+json"
               in o.get("data", {})]
    assert "trials: 100%" in stderr or widgets

    summary = next(c for c in cells if c.source == "comparison.summary()")
    (result,) = [o for o in summary.outputs if o.output_type == "execute_result"]
    assert "<table" in result["data"]["text/html"]
    assert "EntropySampling" in result["data"]["text/html"]

    comparison = next(c for c in cells if c.source == "comparison")
    (result,) = [o for o in comparison.outputs if o.output_type == "execute_result"]
    assert result["data"]["text/plain"].startswith("StrategyComparison(names=")
    page = result["data"]["text/html"]
    assert "<table" in page and "MarginSampling" in page
