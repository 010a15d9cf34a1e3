"""The result protocol: what every answer a user may keep can do, and how it is stored and loaded.

A fit, a group of fits, a recommendation, a plan: each is a frozen :class:`Result` with

* ``summary()`` -> a DataFrame, ``report()`` -> a string, ``plot(ax=None)`` -> a matplotlib Figure;
* ``to_dict()`` / ``to_json(path)``, an artifact whose schema is ``scalelaw.<family>.<kind>/<version>``;
* ``settings`` (a read-only mapping, enough to replay it) and ``warnings`` (a tuple of str).

:func:`load` reads any artifact of any family (and the older schema names, through the converters
registered with :func:`legacy`) and returns the right object.  A result class joins the protocol by
subclassing :class:`Result` and naming its ``FAMILY`` and ``KIND``; the contract test then covers it.

Artifact fields are the dataclass fields of the result, encoded by :func:`encode`: numbers, strings,
lists and mappings as JSON; arrays as ``{"$array": ..., "dtype": ...}``; DataFrames as
``{"$frame": ...}``; nested results as their own artifacts; other declared values (a law, a metric)
as ``{"$value": kind, ...}``.  No code, no pickle.

Examples
--------
>>> import pandas as pd
>>> from scalelaw import engine, get_law
>>> t = pd.DataFrame({"x": [1.0, 4.0, 16.0, 64.0], "loss": [3.0, 1.5, 0.75, 0.375]})
>>> r = engine.fit(get_law("power_law"), t, loss="squared")
>>> load(r.to_json()).params == r.params
True
"""

from __future__ import annotations

import contextvars
import dataclasses
import importlib
import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from scalelaw import artifact, schema
from scalelaw.errors import ArtifactError

#: schema -> result class, filled by :meth:`Result.__init_subclass__`.
SCHEMAS: dict[str, type[Result]] = {}
#: older schema name -> converter from its payload to a result.
LEGACY: dict[str, Callable[[dict, str], Result]] = {}
#: value kind -> class of a declared value nested in artifacts (see :func:`value_kind`).
VALUES: dict[str, type] = {}
#: the JSON path of the artifact being read inside its file (``fits.small.``), for messages.
AT: contextvars.ContextVar[str] = contextvars.ContextVar("scalelaw_artifact_path", default="")
#: where the classes of each family's artifacts are declared (imported by :func:`load` on demand).
MODULES = {
    "core": "scalelaw.result",
    "loss": "scalelaw.families.loss",
    "hyperparams": "scalelaw.families.hyperparams",
    "sampling": "scalelaw.families.sampling",
    "downstream": "scalelaw.families.downstream",
    "datastore": "scalelaw.families.datastore",
    "transport": "scalelaw.families.transport",
}
#: older schema names and the family that reads them.
LEGACY_FAMILIES = {"scalelaw.fit/1": "core", "scalelaw.hparams/1": "hyperparams",
                   "scalelaw.sampling/1": "sampling", "scalelaw.datastore/1": "datastore"}


class FrozenDict(dict):
    """A dict that refuses changes (a result's fields are values, not state)."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("results are frozen; build a new result instead of changing this one")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __reduce__(self):
        return (FrozenDict, (dict(self),))


def frozen(mapping: Mapping | None) -> FrozenDict:
    """A read-only copy of ``mapping`` (empty for None)."""
    return mapping if isinstance(mapping, FrozenDict) else FrozenDict(mapping or {})


# ------------------------------------------------------------------------------------------ values
def value_kind(kind: str):
    """Class decorator: instances of a (dataclass) value class nest in artifacts as ``$value: kind``.

    The class is stored through ``to_dict()`` / ``from_dict(d)`` when it has them, otherwise
    field by field.
    """

    def declare(cls):
        if kind in VALUES and VALUES[kind] is not cls:
            raise ValueError(f"value kind {kind!r} is declared twice")
        VALUES[kind] = cls
        cls.VALUE_KIND = kind
        return cls

    return declare


def encode(value: Any) -> Any:
    """A JSON-ready form of a field value (see the module docstring)."""
    import numpy as np
    import pandas as pd

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, Result):
        return value.to_dict()
    if isinstance(value, np.ndarray):
        return {"$array": encode(value.tolist()), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.DataFrame):
        index = None if isinstance(value.index, pd.RangeIndex) and value.index.start == 0 \
            and value.index.step == 1 else [encode(v) for v in value.index.tolist()]
        return {"$frame": {"columns": [str(c) for c in value.columns],
                           "data": [[encode(v) for v in row] for row in value.itertuples(index=False)],
                           "index": index, "index_name": value.index.name}}
    if hasattr(value, "VALUE_KIND"):
        body = value.to_dict() if hasattr(value, "to_dict") else {
            f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$value": value.VALUE_KIND, **encode(body)}
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    raise TypeError(f"cannot store a {type(value).__name__} in an artifact")


def decode(value: Any, *, source: str = "artifact", path: str = "") -> Any:
    """The inverse of :func:`encode` (lists stay lists; :meth:`Result.from_dict` restores tuples).

    ``path`` is the JSON path of ``value`` in its artifact, named when a value cannot be read.
    """
    if isinstance(value, list):
        return [decode(v, source=source, path=f"{path}[{j}]") for j, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    if "$array" in value or "$frame" in value:
        try:
            return _table(value)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            what = "an array" if "$array" in value else "a table"
            raise ArtifactError(f"{source}: {AT.get()}{path} is not {what} ({err}); {schema.FORM_ADVICE}") from None
    if "$value" in value:
        kind = value["$value"]
        cls = VALUES.get(kind)
        family = kind.split(".")[0]
        if cls is None and family in MODULES:
            importlib.import_module(MODULES[family])
            cls = VALUES.get(kind)
        if cls is None:
            raise ArtifactError(f"{source}: unknown value kind {kind!r}; it was written by another scalelaw")
        body = {k: decode(v, source=source, path=f"{path}.{k}") for k, v in value.items() if k != "$value"}
        try:
            return cls.from_dict(body) if hasattr(cls, "from_dict") else _build(cls, body)
        except ArtifactError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise ArtifactError(f"{source}: {AT.get()}{path} is not a {kind} ({err}); {schema.FORM_ADVICE}") from None
    if isinstance(value.get("schema"), str):
        token = AT.set(f"{AT.get()}{path}.")
        try:
            return from_payload(value, source=source)
        finally:
            AT.reset(token)
    return {k: decode(v, source=source, path=f"{path}.{k}" if path else str(k)) for k, v in value.items()}


def _table(value: dict):
    """An array (``$array``) or DataFrame (``$frame``) from its encoded form."""
    import numpy as np
    import pandas as pd

    if "$array" in value:
        dtype = value.get("dtype", "float64")
        if not isinstance(dtype, str) or np.dtype(dtype).kind not in "biufcUSM":
            raise ValueError(f"dtype {dtype!r} is not one scalelaw writes")
        return np.asarray(value["$array"], dtype=dtype)
    body = value["$frame"]
    frame = pd.DataFrame([list(row) for row in body["data"]], columns=body["columns"])
    if body.get("index") is not None:
        frame.index = pd.Index(body["index"], name=body.get("index_name"))
    return frame


def _build(cls, body: Mapping):
    """Instantiate a dataclass from decoded fields, turning lists back into declared tuples."""
    kwargs = {}
    for f in dataclasses.fields(cls):
        if not f.init or f.name not in body:
            continue
        v = body[f.name]
        if isinstance(v, list) and str(f.type).replace("typing.", "").lower().startswith("tuple"):
            v = tuple(tuple(x) if isinstance(x, list) and "tuple[tuple" in str(f.type) else x for x in v)
        kwargs[f.name] = v
    return cls(**kwargs)


# ------------------------------------------------------------------------------------------ results
class Result(artifact.JsonArtifact):
    """Base of every result a user may keep (a frozen dataclass that names FAMILY and KIND).

    Subclasses provide ``summary()`` and ``plot(ax=None)``; ``report()``, the artifact and
    ``_repr_html_`` come from here.  ``settings`` and ``warnings`` are fields or properties.
    """

    FAMILY: ClassVar[str]
    KIND: ClassVar[str]
    VERSION: ClassVar[int] = 1
    #: the first line of ``report()`` (default: family and kind).
    TITLE: ClassVar[str] = ""
    #: the fields whose numbers the answers use, hashed into ``params_sha256`` (None: every field).
    HASHED: ClassVar[tuple[str, ...] | None] = None
    #: keys ``to_dict`` writes besides the fields (read back as known, not as unknown keys).
    DERIVED: ClassVar[tuple[str, ...]] = ()

    settings: Mapping[str, object]
    warnings: tuple[str, ...]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "KIND" in cls.__dict__:
            cls.SCHEMA = f"scalelaw.{cls.FAMILY}.{cls.KIND}/{cls.VERSION}"
            if cls.SCHEMA in SCHEMAS and SCHEMAS[cls.SCHEMA].__qualname__ != cls.__qualname__:
                raise TypeError(f"two result classes declare the schema {cls.SCHEMA!r}")
            SCHEMAS[cls.SCHEMA] = cls

    def __post_init__(self) -> None:
        """Freeze the ``settings`` and ``warnings`` fields (subclasses call this first)."""
        names = {f.name for f in dataclasses.fields(self)}
        if "settings" in names:
            object.__setattr__(self, "settings", frozen(self.settings))
        if "warnings" in names:
            object.__setattr__(self, "warnings", tuple(self.warnings))

    # ------------------------------------------------------------------ the protocol
    def summary(self):
        """The result as a DataFrame."""
        raise NotImplementedError

    def plot(self, ax=None):
        """The result as a matplotlib Figure (drawn on ``ax`` when given)."""
        raise NotImplementedError

    def report(self) -> str:
        """A plain-text report: the title, the summary table and the warnings."""
        title = self.TITLE or f"{self.FAMILY} {self.KIND}"
        lines = [title, self.summary().to_string(float_format=lambda v: f"{v:.6g}")]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        warned = "".join(f"<br><b>warning:</b> {w}" for w in self.warnings)
        return f"<b>{self.TITLE or self.FAMILY + ' ' + self.KIND}</b>" + \
            self.summary().to_html(float_format=lambda v: f"{v:.6g}") + warned

    # ------------------------------------------------------------------ the artifact
    def to_dict(self) -> dict:
        """The artifact as a dict: the header, then every dataclass field."""
        body = {f.name: encode(getattr(self, f.name)) for f in dataclasses.fields(self) if f.init}
        return {**artifact.header(self.KIND, self.SCHEMA), "family": self.FAMILY,
                artifact.DIGEST: self.digest(body), **body}

    def digest(self, body: Mapping) -> str:
        """``params_sha256`` of an artifact body: the sha256 of the fields in ``HASHED``."""
        return artifact.digest({k: body[k] for k in (self.HASHED or body) if k in body})

    @classmethod
    def from_dict(cls, payload: Mapping, *, source: str = "artifact"):
        """Restore from an artifact dict of this class's schema (or an older one it replaces)."""
        if not isinstance(payload, Mapping):
            raise ArtifactError(f"{source}: {AT.get() or 'the artifact '}is {schema.describe(payload)}, not "
                                f"a {cls.FAMILY} {cls.KIND} artifact object; give a file that scalelaw wrote")
        found = payload.get("schema")
        if found != cls.SCHEMA and isinstance(found, str) and found in LEGACY:
            result = LEGACY[found](dict(payload), source)
            if isinstance(result, cls):
                return result
        payload = artifact.check(dict(payload), schema=cls.SCHEMA, source=source, warn=False)
        schema.validate(cls, payload, source=source, at=AT.get())
        artifact.check_version(payload, source)
        return cls.from_fields(payload, source=source)

    @classmethod
    def from_fields(cls, payload: Mapping, *, source: str = "artifact"):
        """Build from the artifact's fields (the header is ignored)."""
        try:
            body = {f.name: decode(payload[f.name], source=source, path=f.name)
                    for f in dataclasses.fields(cls) if f.init and f.name in payload}
            return _build(cls, body)
        except ArtifactError:
            raise
        except (KeyError, TypeError, ValueError) as err:
            raise ArtifactError(f"{source}: the {cls.FAMILY} {cls.KIND} artifact is incomplete ({err!r}); "
                                "write it again with this scalelaw") from err


def legacy(schema: str):
    """Decorator: register a converter that reads an older schema into a current result."""

    def declare(convert: Callable[[dict, str], Result]):
        LEGACY[schema] = convert
        return convert

    return declare


def _family_of(schema: str) -> str | None:
    if schema in LEGACY_FAMILIES:
        return LEGACY_FAMILIES[schema]
    parts = schema.split("/")[0].split(".")
    return parts[1] if len(parts) == 3 and parts[0] == "scalelaw" else None


def from_payload(payload: Mapping, *, source: str = "artifact") -> Result:
    """The result an artifact dict holds, by its schema (importing the family that declares it)."""
    if not isinstance(payload, Mapping):
        raise ArtifactError(f"{source}: {AT.get() or 'the artifact '}is {schema.describe(payload)}, not an "
                            "artifact object; give a file that scalelaw wrote")
    if not AT.get() and schema.depth(payload) > schema.MAX_DEPTH:
        raise ArtifactError(f"{source}: nests deeper than {schema.MAX_DEPTH} levels, which no artifact does")
    found = payload.get("schema")
    if not isinstance(found, str):
        raise ArtifactError(f"{source}: not a scalelaw artifact (no schema field)")
    return _by_schema(found, payload, source)


def _by_schema(name: str, payload: Mapping, source: str) -> Result:
    family = _family_of(name)
    if family in MODULES and name not in SCHEMAS and name not in LEGACY:
        importlib.import_module(MODULES[family])
    if name in LEGACY:
        return LEGACY[name](dict(payload), source)
    if name in SCHEMAS:
        return SCHEMAS[name].from_dict(payload, source=source)
    known = [s for s in SCHEMAS if s.split("/")[0] == name.split("/")[0]]
    if known:
        raise ArtifactError(f"{source}: written with schema {name!r}; this scalelaw reads {known[0]!r}; "
                            "refit with this version or install the one that wrote it")
    raise ArtifactError(f"{source}: unknown artifact schema {name!r}")


def load(source: str | os.PathLike, *, strict: bool = False) -> Result:
    """Read any scalelaw artifact (a file path or JSON text) and return its result object.

    Every field is checked before use (:func:`scalelaw.schema.validate`); an artifact whose numbers
    were edited by hand (``params_sha256`` does not match) warns, or with ``strict=True`` is refused.
    """
    text = str(source)
    with artifact.strict_if(strict):
        if text.lstrip().startswith("{"):
            return from_payload(artifact.loads(text, source="JSON text"), source="JSON text")
        return from_payload(artifact.load(source), source=text)
