"""examples/tour.ipynb runs top to bottom, headless, as a reader would run it."""

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

TOUR = Path(__file__).resolve().parents[2] / "examples" / "tour.ipynb"


def test_the_tour_runs_top_to_bottom(monkeypatch):
    # Figures as JSON only: no plotly.js bundle in the outputs of a headless run.
    monkeypatch.setenv("PLOTLY_RENDERER", "json")
    nb = nbformat.read(TOUR, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(TOUR.parent)}})
    client.execute()  # raises CellExecutionError, with the cell and its traceback, if any cell fails
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in outputs)
    assert "quadratic.lambda_1 = -1 is not allowed" in text
    assert "http://127.0.0.1:8000/#s=quadratic:lambda_1=1,lambda_2=20,rotation=30" in text
    figures = [o for o in outputs if "application/vnd.plotly.v1+json" in o.get("data", {})
               or "application/json" in o.get("data", {})]
    assert len(figures) >= 6
