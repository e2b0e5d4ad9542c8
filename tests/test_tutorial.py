"""The tutorial notebook runs top to bottom (nbclient) and shows what its text promises."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the 'test' extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the 'test' extra installs nbclient")
pytest.importorskip("ema_workbench", reason="the tutorial's discovery needs the 'ema' extra")

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "tutorial.ipynb"


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def test_tutorial_runs_top_to_bottom(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    texts = [_text(c) for c in code]
    assert "baseline+delay_days=5" in texts[1]
    assert "slow - baseline" in texts[2] and "paired bootstrap" in texts[2]
    figures = [c for c in code if any("image/png" in o.get("data", {}) for o in c.outputs)]
    assert len(figures) == 2
    assert "runs reach the sponsor-territory rung" in texts[-2] and "prim" in texts[-2]
    assert "us.doctrine.scope.inside_iran" in texts[-1]
