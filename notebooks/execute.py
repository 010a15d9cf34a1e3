"""Execute notebooks top to bottom and store them with their outputs (tables and figures).

Usage: ``python notebooks/execute.py [NOTEBOOK ...]`` (all of notebooks/ by default).  Figures
use the kernel's inline backend, whatever MPLBACKEND says; no timing metadata is stored.  The
shared data is read from ``$SCALELAW_SHARED_DATA``, by default the team's ../shared/data.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def execute(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(notebook, path)


if __name__ == "__main__":
    os.environ.pop("MPLBACKEND", None)
    os.environ.setdefault("SCALELAW_SHARED_DATA", str(HERE.parent.parent / "shared" / "data"))
    for name in sys.argv[1:] or sorted(HERE.glob("*.ipynb")):
        print(f"executing {name}", flush=True)
        execute(Path(name).resolve())
