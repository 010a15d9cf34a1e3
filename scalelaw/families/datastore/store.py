"""What ``scalelaw datastore fit`` answers: per-reader laws and/or the joint law, and their comparison.

:func:`fit_datastore` runs the per-reader fits (and, with ``law="joint"``, the joint law and its
comparison with them) and returns a :class:`DatastoreFit`, stored as ``scalelaw.datastore.fit/1``;
files written as ``scalelaw.datastore/1`` still load.

Examples
--------
>>> import pandas as pd
>>> from scalelaw import load
>>> from scalelaw.families.datastore.data import prepare
>>> log = pd.DataFrame({"model": "m", "params": 1e9, "tokens": 2e10, "datastore_tokens": [0, 1e10, 1e11],
...                     "metric": "ppl", "value": [10.0, 9.0, 8.5]})
>>> saved = fit_datastore(prepare(log))
>>> again = load(saved.to_json())
>>> again.readers["m:ppl"].chosen.params == saved.readers["m:ppl"].chosen.params
True
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pandas as pd

from scalelaw import artifact, protocol
from scalelaw.errors import ArtifactError
from scalelaw.families.datastore.data import Measurements, prepare
from scalelaw.families.datastore.joint import JointFit, compare, fit_joint, legacy_joint
from scalelaw.families.datastore.readers import LM_ONLY_AT, fit_readers, legacy_readers, reader_table
from scalelaw.result import FitGroup

LEGACY_SCHEMA = "scalelaw.datastore/1"


@dataclass(frozen=True)
class DatastoreFit(protocol.Result):
    """Per-reader laws (a :class:`~scalelaw.result.FitGroup` of ReaderFit), a joint law, and
    their comparison (per reader MAE of each, metric units)."""

    FAMILY = "datastore"
    KIND = "fit"
    TITLE = "datastore laws"

    readers: FitGroup | None = None
    joint: JointFit | None = None
    comparison: pd.DataFrame | None = None
    notes: tuple[str, ...] = field(default=())
    settings: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def warnings(self) -> tuple[str, ...]:
        parts = (self.readers, self.joint)
        return tuple(w for part in parts if part is not None for w in part.warnings)

    def summary(self) -> pd.DataFrame:
        """The joint law's parameters when there is one, else one row per (reader, metric, law)."""
        if self.joint is not None:
            return self.joint.summary()
        return reader_table(self.readers)

    def report(self) -> str:
        parts = [part.report() for part in (self.joint, self.readers) if part is not None]
        if self.comparison is not None:
            parts.append("joint law vs per-reader laws (MAE, metric units)\n" + self.comparison.to_string())
        return "\n\n".join(parts)

    def plot(self, ax=None):
        """Metric against datastore size per reader, with the chosen laws (and the joint law)."""
        from scalelaw.plots.datastore import datastore_scaling

        return datastore_scaling(self.readers, joint=self.joint, ax=ax)


def _fit_rows(part: pd.DataFrame, *, source, settings: dict, progress) -> DatastoreFit:
    """The fit of one group of a file's rows, read as a file of those rows alone."""
    return fit_datastore(prepare(replace(source, frame=part)), **settings, progress=progress)


def fit_datastore(
    measurements: Measurements,
    *,
    law: str = "auto",
    metric: str | None = None,
    holdout: int = 2,
    lm_only_at: float = LM_ONLY_AT,
    loss: str = "squared",
    bootstrap: int = 0,
    seed: int = 0,
    level: float = 0.95,
    progress=None,
    by: str | Sequence[str] | None = None,
    strict: bool = False,
    jobs: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
) -> DatastoreFit | FitGroup:
    """Per-reader laws in datastore size, or (``law="joint"``) the joint law L(N, D, S) of one metric
    with per-reader laws beside it for comparison.

    Parameters are those of :func:`~.readers.fit_readers` and :func:`~.joint.fit_joint`; with
    ``law="joint"`` the bootstrap is the joint law's and the per-reader laws have none.

    With ``by`` (columns of the file, e.g. ``"model"``), the file's measured rows are split by those
    columns and each group is read and fitted as a file of its rows alone: a
    :class:`~scalelaw.result.FitGroup` of DatastoreFit (:func:`scalelaw.groups.each`, whose ``jobs``,
    ``backend`` and ``scheduler`` these are).
    """
    settings = {"law": law, "metric": metric, "holdout": int(holdout), "lm_only_at": float(lm_only_at),
                "loss": loss, "bootstrap": int(bootstrap), "seed": int(seed), "level": float(level)}
    if by is not None:
        from scalelaw import groups, parallel

        source = measurements.source
        rows = source.frame[source.frame.index.isin(measurements.rows["row"])]
        one = functools.partial(_fit_rows, source=replace(source, frame=source.frame.iloc[:0]), settings=settings,
                                progress=progress if parallel.in_process(jobs, backend) else None)
        return groups.each(one, rows, by=by, strict=strict, family="datastore", settings=settings, jobs=jobs,
                           backend=backend, scheduler=scheduler)
    if law != "joint":
        readers = fit_readers(measurements, law=law, holdout=holdout, lm_only_at=lm_only_at, loss=loss,
                              bootstrap=bootstrap, seed=seed, level=level, progress=progress)
        return DatastoreFit(readers=readers, settings=settings)
    joint = fit_joint(measurements, metric=metric, holdout=holdout, loss=loss, bootstrap=bootstrap, seed=seed,
                      level=level, progress=progress)
    readers = fit_readers(measurements.select(metric=joint.metric.name), holdout=holdout, lm_only_at=lm_only_at,
                          loss=loss)
    return DatastoreFit(readers=readers, joint=joint, comparison=compare(joint, readers), settings=settings)


@protocol.legacy(LEGACY_SCHEMA)
def _read_legacy(payload: dict, source: str) -> DatastoreFit:
    payload = artifact.check(payload, schema=LEGACY_SCHEMA, source=source)
    try:
        readers, joint, comparison = (payload.get(k) for k in ("readers", "joint", "comparison"))
        return DatastoreFit(None if readers is None else legacy_readers(readers),
                            None if joint is None else legacy_joint(joint),
                            None if comparison is None else pd.DataFrame(comparison),
                            tuple(payload.get("notes", ())))
    except (KeyError, TypeError, ValueError) as err:
        raise ArtifactError(f"{source}: the datastore fit artifact is incomplete ({err!r})") from err
