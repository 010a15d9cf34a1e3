"""Artifacts checked field by field before any number is used.

:func:`validate` compares an artifact's JSON fields with the dataclass fields of the result class
that reads it: every field's annotation (``str``, ``int``, ``float``, ``bool``, ``Mapping[str, float]``,
``tuple[str, ...]``, arrays, tables, nested results, ``X | None``) says what its JSON value may be, so
a new field is covered without new code.  A class adds what types cannot say (parameters finite and
within their bounds, a 2-D bootstrap with one column per parameter) in ``check_payload``, calling
:func:`refuse`.  Missing required fields are refused, unknown ones named in an
:class:`~scalelaw.errors.ArtifactWarning`, and a ``params_sha256`` that does not match the numbers is
reported as edited by hand (refused when loading strictly, see :func:`scalelaw.artifact.strict`).

Every failure is one :class:`~scalelaw.errors.ArtifactError` line naming the file and the JSON path,
e.g. ``fit.json: params.alpha is NaN; refit, or restore the artifact``.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import functools
import math
import sys
import types
import typing
import warnings
from collections.abc import Mapping
from typing import Any

from scalelaw import artifact
from scalelaw.errors import ArtifactError, ArtifactWarning

#: the keys every artifact may carry besides its class's fields.
HEADER = frozenset({"schema", "kind", "scalelaw_version", "family", artifact.DIGEST})
#: the advice that ends a refusal of numbers (NaN, out of bounds, edited by hand).
ADVICE = "refit, or restore the artifact"
#: the advice that ends a refusal of the artifact's form (a field missing or of another type).
FORM_ADVICE = "restore the artifact, or write it again with this scalelaw"
#: how deep an artifact's JSON may nest (the deepest written is about 12 levels).
MAX_DEPTH = artifact.MAX_DEPTH


class Invalid(Exception):
    """A field that cannot be used: its JSON path and what is wrong with it."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path, self.problem = path, problem


def refuse(path: str, problem: str) -> typing.NoReturn:
    """Stop the check: the field at ``path`` (``params.alpha``) has ``problem`` (``is NaN``)."""
    raise Invalid(path, problem)


def describe(value: Any) -> str:
    """A short name for a JSON value in a message: ``a string ('abc')``, ``null``, ``a list``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    return "a list" if isinstance(value, list) else "an object"


def number(value: Any, path: str, *, finite: bool = True, positive: bool = False) -> float:
    """``value`` as a float, refused unless it is a JSON number (finite, and > 0 when asked)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        refuse(path, f"must be a number, got {describe(value)}")
    try:
        value = float(value)
    except OverflowError:
        refuse(path, f"is an integer beyond the range of numbers ({len(str(value))} digits)")
    if finite and not math.isfinite(value):
        refuse(path, "is NaN" if math.isnan(value) else f"is {value}")
    if positive and not value > 0:
        refuse(path, f"must be > 0, got {value!r}")
    return value


def array(value: Any, path: str, *, ndim: int | None = None, columns: int | None = None):
    """A numeric array (``{"$array": ...}`` or nested lists), refused unless rectangular and numeric;
    with ``ndim``/``columns``, of that many dimensions and columns."""
    import numpy as np

    body = value.get("$array") if isinstance(value, dict) else value
    if not isinstance(body, list):
        refuse(path, f"must be an array, got {describe(value)}")
    try:
        values = np.asarray(body, dtype=float)
    except (TypeError, ValueError, OverflowError):
        refuse(path, "must be a rectangular array of numbers (within the range of floats)")
    if ndim is not None and (values.ndim != ndim or (columns is not None and values.shape[-1] != columns)):
        want = f"a {ndim}-D array" + (f" with {columns} columns (one per parameter)" if columns is not None else "")
        refuse(path, f"must be {want}, got shape {values.shape}")
    return values


def fields_of(value: Any, spec: Mapping[str, Any], path: str, *, required: bool = False) -> None:
    """Refuse an object ``value`` whose keys named in ``spec`` do not hold their types (``required``:
    or are missing); other keys are not checked."""
    check_type(value, Mapping[str, Any], path)
    for key, hint in spec.items():
        if key in value:
            check_type(value[key], hint, f"{path}.{key}")
        elif required:
            refuse(f"{path}.{key}", "is missing")


# ------------------------------------------------------------------------------------------ types
@functools.cache
def hints(cls: type) -> dict[str, Any]:
    """Field name -> resolved annotation (``Any`` where a name cannot be resolved)."""
    try:
        return typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 (a name only imported for type checking: fall back per field)
        names = vars(sys.modules[cls.__module__])
        out = {}
        for f in dataclasses.fields(cls):
            try:
                out[f.name] = eval(f.type, names) if isinstance(f.type, str) else f.type  # noqa: S307
            except Exception:  # noqa: BLE001
                out[f.name] = Any
        return out


_MAPPINGS = (dict, Mapping, collections.abc.Mapping, collections.abc.MutableMapping)
_SEQUENCES = (list, collections.abc.Sequence)


def _declared_values(value: Any, path: str) -> None:
    """Check the declared values (``{"$value": kind, ...}``) inside an untyped mapping by their classes."""
    from scalelaw import protocol

    if not isinstance(value, dict) or "$array" in value or "$frame" in value:
        return
    kind = value.get("$value")
    if isinstance(kind, str) and kind in protocol.VALUES:
        check_type(value, protocol.VALUES[kind], path)
        return
    for key, item in value.items():
        _declared_values(item, f"{path}.{key}")


def check_type(value: Any, hint: Any, path: str) -> None:
    """Refuse ``value`` (JSON, before decoding) unless it can hold a value of type ``hint``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint in (Any, object) or isinstance(hint, typing.TypeVar):
        _declared_values(value, path)
        return
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return
        first = None
        for alternative in (a for a in args if a is not type(None)):
            try:
                return check_type(value, alternative, path)
            except Invalid as err:
                first = first or err
        raise first or Invalid(path, f"must not be {describe(value)}")
    if hint is type(None):
        if value is not None:
            refuse(path, f"must be null, got {describe(value)}")
        return
    if hint is bool:
        if not isinstance(value, bool):
            refuse(path, f"must be true or false, got {describe(value)}")
        return
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            refuse(path, f"must be an integer, got {describe(value)}")
        return
    if hint is float:
        number(value, path, finite=False)
        return
    if hint is str:
        if not isinstance(value, str):
            refuse(path, f"must be a string, got {describe(value)}")
        return
    if origin in _MAPPINGS or hint in _MAPPINGS:
        if not isinstance(value, dict) or "$array" in value or "$frame" in value:
            refuse(path, f"must be an object, got {describe(value)}")
        inner = args[1] if len(args) == 2 else Any
        for key, item in value.items():
            check_type(item, inner, f"{path}.{key}")
        return
    if origin is tuple or origin in _SEQUENCES or hint in (tuple, list):
        if not isinstance(value, list):
            refuse(path, f"must be a list, got {describe(value)}")
        if len(args) == 2 and args[1] is Ellipsis:
            args = (args[0],) * len(value)
        elif origin is tuple and args and len(args) != len(value):
            refuse(path, f"must be a list of {len(args)} values, got {len(value)}")
        for j, item in enumerate(value):
            check_type(item, args[j] if j < len(args) else (args[0] if args else Any), f"{path}[{j}]")
        return
    if not isinstance(hint, type):
        return
    _check_class(value, hint, path)


def _check_class(value: Any, hint: type, path: str) -> None:
    import numpy as np
    import pandas as pd

    from scalelaw import protocol

    if issubclass(hint, np.ndarray):
        array(value, path)
    elif issubclass(hint, pd.DataFrame):
        body = value.get("$frame") if isinstance(value, dict) else None
        if not isinstance(body, dict) or not isinstance(body.get("columns"), list) \
                or not isinstance(body.get("data"), list):
            refuse(path, f"must be a table ({{\"$frame\": ...}}), got {describe(value)}")
        width = len(body["columns"])
        for j, row in enumerate(body["data"]):
            if not isinstance(row, list) or len(row) != width:
                refuse(f"{path}.data[{j}]", f"must be a list of {width} cells (one per column)")
            for k, cell in enumerate(row):
                if isinstance(cell, list) or (isinstance(cell, dict) and set(cell) != {"$float"}):
                    refuse(f"{path}.data[{j}][{k}]", f"must be one value (a number, text or null), got "
                                                     f"{describe(cell)}")
    elif issubclass(hint, protocol.Result):
        if not isinstance(value, dict) or not isinstance(value.get("schema"), str):
            refuse(path, f"must be an artifact object with a schema, got {describe(value)}")
    elif hasattr(hint, "VALUE_KIND"):
        if not isinstance(value, dict) or value.get("$value") != hint.VALUE_KIND:
            refuse(path, f"must be a {hint.VALUE_KIND} ({{\"$value\": \"{hint.VALUE_KIND}\", ...}}), "
                         f"got {describe(value)}")
        # its stored fields: as the class declares them (STORED), else by its annotations when it is stored
        # field by field
        stored = getattr(hint, "STORED", None)
        if stored is None and dataclasses.is_dataclass(hint) and "to_dict" not in vars(hint):
            stored = hints(hint)
        for name, field_hint in (stored or {}).items():
            if name in value:
                check_type(value[name], field_hint, f"{path}.{name}")
        if hasattr(hint, "check_stored"):  # what the types cannot say
            hint.check_stored(value, path)
    elif hasattr(hint, "from_dict") or dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            refuse(path, f"must be an object, got {describe(value)}")


# ------------------------------------------------------------------------------------------ the pass
def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deep ``value`` nests (lists and objects), counted without recursion; stops past ``limit``."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            stack.extend((v, level + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


def _common(cls: type, payload: Mapping, declared: Mapping[str, Any]) -> None:
    """What holds for every class: a float field ``level`` lies in (0, 1); the arrays named in the
    class's ``SAME_LENGTH`` have one length."""
    if declared.get("level") is float and "level" in payload:
        level = number(payload["level"], "level")
        if not 0 < level < 1:
            refuse("level", f"must lie in (0, 1), got {level!r}")
    lengths = {k: len(array(payload[k], k).reshape(-1)) for k in getattr(cls, "SAME_LENGTH", ()) if k in payload}
    if len(set(lengths.values())) > 1:
        first, n = next(iter(lengths.items()))
        odd = next(k for k, v in lengths.items() if v != n)
        refuse(odd, f"has {lengths[odd]} values but {first} has {n}")


def validate(cls: type, payload: Any, *, source: str, at: str = "", extra: frozenset = frozenset()) -> None:
    """Check an artifact ``payload`` read for result class ``cls``; one ArtifactError on the first problem.

    ``at`` is the JSON path of a nested artifact (``fits.small.``); ``extra`` names keys an older
    schema may carry.  Unknown keys warn; a params_sha256 that does not match warns or refuses.
    """
    advice = FORM_ADVICE
    try:
        if not isinstance(payload, Mapping):
            refuse("", f"is {describe(payload)}, not an artifact object")
        if not at and depth(payload) > MAX_DEPTH:
            refuse("", f"nests deeper than {MAX_DEPTH} levels, which no artifact does")
        fields = [f for f in dataclasses.fields(cls) if f.init]
        declared = hints(cls)
        for f in fields:
            if f.name not in payload:
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                    refuse(f.name, "is missing")
                continue
            check_type(payload[f.name], declared.get(f.name, Any), f.name)
        advice = ADVICE
        _common(cls, payload, declared)
        hook = getattr(cls, "check_payload", None)
        if hook is not None:
            hook(payload)
    except Invalid as err:
        where = f"{at}{err.path}".rstrip(".")
        raise ArtifactError(f"{source}: {where + ' ' if where else 'the artifact '}{err.problem}; {advice}") \
            from None
    known = HEADER | {f.name for f in fields} | set(getattr(cls, "DERIVED", ())) | extra
    unknown = [str(k) for k in payload if k not in known]
    if unknown:
        warnings.warn(ArtifactWarning(f"{source}: {at}unknown fields ignored: {', '.join(unknown)}"),
                      stacklevel=2)
    stored = payload.get(artifact.DIGEST)
    if stored is not None:
        hashed = getattr(cls, "HASHED", None) or [f.name for f in fields]
        if stored != artifact.digest({k: payload[k] for k in hashed if k in payload}):
            message = (f"{source}: {at}{artifact.DIGEST} does not match: edited by hand: params changed "
                       "since the fit was written")
            if artifact.STRICT.get():
                raise ArtifactError(f"{message}; {ADVICE} (loaded strictly)")
            warnings.warn(ArtifactWarning(f"{message}; the answers use the edited numbers"), stacklevel=2)
