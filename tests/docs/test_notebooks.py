"""The notebooks in docs/notebooks run from top to bottom in a fresh kernel, each in an empty directory.

Their cells hold the known answers themselves (an injected bump found at its mass and nothing on background alone,
recomputed substructure equal to the stored one, the supervised reference separating the signal), so a notebook
that runs is a notebook whose statements hold. They are stored without outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[2] / "docs" / "notebooks").glob("*.ipynb"))


def test_the_documented_notebooks_exist_and_are_stored_without_outputs():
    assert {p.stem for p in NOTEBOOKS} >= {"lhc_olympics_rnd", "bump_hunt_your_histogram", "reading_nanoaod"}
    for p in NOTEBOOKS:
        nb = nbformat.read(p, as_version=4)
        nbformat.validate(nb)
        assert all(
            not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code"
        ), p


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_runs_from_top_to_bottom(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    assert any(o.get("output_type") == "stream" for c in nb.cells for o in c.get("outputs", []))
