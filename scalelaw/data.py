"""Where the data sets are: the project's ``data/`` folder and the team's shared data.

:func:`path` finds a file of the shipped data sets (``data/`` beside the package source, for a
source checkout or an editable install), or under the folder named by ``SCALELAW_DATA``.
:func:`shared` finds a file of the data sets whose licences keep them out of ``data/``, under the
folder named by ``SCALELAW_SHARED_DATA``; nothing else is searched.  Notebooks and scripts that
use these run from any working directory.

>>> path("loss/epoch_chinchilla_svg_extracted.csv").name
'epoch_chinchilla_svg_extracted.csv'
"""

from __future__ import annotations

import os
from pathlib import Path

from scalelaw.errors import InputError

DATA_VARIABLE = "SCALELAW_DATA"
SHARED_VARIABLE = "SCALELAW_SHARED_DATA"


def root() -> Path:
    """The data folder: ``$SCALELAW_DATA`` if set, else ``data/`` next to the package source."""
    given = os.environ.get(DATA_VARIABLE)
    if given:
        return Path(given).expanduser()
    return Path(__file__).resolve().parent.parent / "data"


def path(relative: str | os.PathLike = "") -> Path:
    """A file or folder of the shipped data sets, e.g. ``path("loss/porian_isoflop_points.csv")``.

    Raises
    ------
    InputError
        When it is absent (an install without the source tree): set ``SCALELAW_DATA`` to a copy of
        the project's ``data/`` folder.
    """
    found = root() / relative
    if not found.exists():
        origin = f"${DATA_VARIABLE}" if os.environ.get(DATA_VARIABLE) else "the data folder beside the package"
        raise InputError(f"absent from {origin}; set {DATA_VARIABLE} to a copy of the project's data/ "
                         "folder", path=str(found))
    return found


def shared(relative: str | os.PathLike = "") -> Path:
    """A file or folder of the shared data sets, under ``$SCALELAW_SHARED_DATA``.

    Raises
    ------
    InputError
        When the variable is unset or the file is absent under it.
    """
    given = os.environ.get(SHARED_VARIABLE)
    if not given:
        raise InputError(f"{relative!s} is shared data, not shipped with scalelaw; set {SHARED_VARIABLE} to "
                         "the folder that holds it")
    found = Path(given).expanduser() / relative
    if not found.exists():
        raise InputError(f"absent from ${SHARED_VARIABLE}; check the variable", path=str(found))
    return found
