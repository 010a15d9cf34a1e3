"""The ``scalelaw.datastore/1`` artifact: per-reader fits and/or a joint fit, as versioned JSON.

Examples
--------
>>> import pandas as pd
>>> from scalelaw.families.datastore.data import prepare
>>> from scalelaw.families.datastore.readers import fit_readers
>>> log = pd.DataFrame({"model": "m", "params": 1e9, "tokens": 2e10, "datastore_tokens": [0, 1e10, 1e11],
...                     "metric": "ppl", "value": [10.0, 9.0, 8.5]})
>>> saved = DatastoreFit(readers=fit_readers(prepare(log)))
>>> again = DatastoreFit.from_json(saved.to_json())
>>> again.readers.fits[0].chosen.params == saved.readers.fits[0].chosen.params
True
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from scalelaw import artifact
from scalelaw.errors import ArtifactError
from scalelaw.families.datastore.joint import JointFit
from scalelaw.families.datastore.readers import ReaderFits

SCHEMA = "scalelaw.datastore/1"


@dataclass(frozen=True)
class DatastoreFit:
    """What ``scalelaw datastore fit`` writes: per-reader fits, a joint fit, their comparison."""

    readers: ReaderFits | None = None
    joint: JointFit | None = None
    comparison: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return {
            **artifact.header("datastore-fit", SCHEMA),
            "readers": None if self.readers is None else self.readers.to_dict(),
            "joint": None if self.joint is None else self.joint.to_dict(),
            "comparison": None if self.comparison is None else self.comparison.to_dict(orient="records"),
            "notes": list(self.notes),
        }

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """JSON text; written atomically to ``path`` when given."""
        text = artifact.dumps(self.to_dict())
        if path is not None:
            artifact.write_atomic(path, text)
        return text

    @classmethod
    def from_dict(cls, payload: dict, *, source: str = "artifact") -> DatastoreFit:
        payload = artifact.check(payload, schema=SCHEMA, source=source)
        try:
            readers = payload.get("readers")
            joint = payload.get("joint")
            comparison = payload.get("comparison")
            return cls(None if readers is None else ReaderFits.from_dict(readers),
                       None if joint is None else JointFit.from_dict(joint),
                       None if comparison is None else pd.DataFrame(comparison),
                       tuple(payload.get("notes", ())))
        except (KeyError, TypeError, ValueError) as err:
            raise ArtifactError(f"{source}: the datastore fit artifact is incomplete ({err!r})") from err

    @classmethod
    def from_json(cls, source: str | os.PathLike) -> DatastoreFit:
        """Restore from a JSON file path or JSON text."""
        text = str(source)
        if text.lstrip().startswith("{"):
            return cls.from_dict(artifact.loads(text), source="JSON text")
        return cls.from_dict(artifact.read(Path(source), schema=SCHEMA), source=str(source))
