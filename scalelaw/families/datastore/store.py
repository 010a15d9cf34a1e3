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

from dataclasses import dataclass, field

import pandas as pd

from scalelaw import artifact
from scalelaw.errors import ArtifactError
from scalelaw.families.datastore.joint import JointFit
from scalelaw.families.datastore.readers import ReaderFits

SCHEMA = "scalelaw.datastore/1"


@dataclass(frozen=True)
class DatastoreFit(artifact.JsonArtifact):
    """What ``scalelaw datastore fit`` writes: per-reader fits, a joint fit, their comparison."""

    SCHEMA = SCHEMA

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

