"""Every notebook in notebooks/ runs top to bottom without error.

A notebook that reads ../shared/data lists the files in its metadata,
``{"scalelaw": {"requires_shared": ["hparams/dense_lr_bs_loss.csv"]}}``, and is skipped, with the
reason, where they are absent.
"""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from support import ROOT, shared_path

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path):
    notebook = nbformat.read(path, as_version=4)
    for relative in notebook.metadata.get("scalelaw", {}).get("requires_shared", []):
        shared_path(relative)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
