"""Versioned JSON artifacts: explicit fields, explicit non-finite numbers, atomic writes.

Non-finite floats are written as ``{"$float": "nan"}`` (or ``"inf"``, ``"-inf"``) so that the
file stays valid JSON; :func:`loads` turns them back into floats.  Files are written to a
temporary name in the same folder and renamed, so a failed run leaves no half-written file.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import math
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from scalelaw import outputs
from scalelaw._version import __version__
from scalelaw.errors import ArtifactError

#: the field that holds the sha256 of the numbers an artifact's answers use.
DIGEST = "params_sha256"
#: how deep an artifact's JSON may nest (the deepest written is about 12 levels).
MAX_DEPTH = 64
#: whether an artifact whose params_sha256 does not match is refused (see :func:`strict`).
STRICT: contextvars.ContextVar[bool] = contextvars.ContextVar("scalelaw_strict_artifacts", default=False)


def encode(value):
    """``value`` as plain JSON data: str keys, lists, non-finite floats as ``{"$float": ...}``, numpy
    scalars as Python numbers."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if hasattr(value, "item") and getattr(value, "shape", None) == ():  # numpy scalar
        return encode(value.item())
    return value


def _decode(obj: dict):
    if set(obj) == {"$float"} and obj["$float"] in ("nan", "inf", "-inf"):
        return float(obj["$float"])
    return obj


def dumps(payload: dict) -> str:
    """JSON text of ``payload`` with non-finite floats encoded explicitly.

    Objects are indented by two spaces; a list of plain values (numbers, strings, explicit
    non-finite floats) stays on one line, so bootstrap draws and tables take a line per row.
    """
    return _format(encode(payload), "") + "\n"


def _plain(value) -> bool:
    return not isinstance(value, (dict, list)) or (isinstance(value, dict) and set(value) == {"$float"})


def _format(value, pad: str) -> str:
    inner = pad + "  "
    if isinstance(value, dict) and value and not _plain(value):
        items = (f"{inner}{json.dumps(k)}: {_format(v, inner)}" for k, v in value.items())
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, list) and value and not all(_plain(v) for v in value):
        return "[\n" + ",\n".join(inner + _format(v, inner) for v in value) + "\n" + pad + "]"
    return json.dumps(value, allow_nan=False)


class Streamed:
    """A mapping written member by member: ``items()`` gives (key, plain JSON data) pairs on demand, so that
    only one member's text exists at a time (see :func:`chunks`)."""

    def __init__(self, items: Callable[[], Iterator[tuple[str, object]]], size: int) -> None:
        self.items, self.size = items, size


def chunks(payload: dict) -> Iterator[str]:
    """The text of :func:`dumps` in pieces: one per top-level field, one per member of a :class:`Streamed`
    field (``"".join(chunks(p)) == dumps(p)`` when no field is streamed)."""
    inner = "  "
    yield "{\n"
    for i, (key, value) in enumerate(payload.items()):
        yield f"{',' if i else ''}\n{inner}{json.dumps(key)}: " if i else f"{inner}{json.dumps(key)}: "
        if not isinstance(value, Streamed):
            yield _format(encode(value), inner)
        elif value.size == 0:
            yield "{}"
        else:
            pad = inner + "  "
            yield "{\n"
            for j, (name, member) in enumerate(value.items()):
                yield f"{',' if j else ''}\n" if j else ""
                yield f"{pad}{json.dumps(str(name))}: {_format(encode(member), pad)}"
            yield f"\n{inner}}}"
    yield "\n}\n"


def loads(text: str, *, source: str = "artifact") -> dict:
    try:
        return json.loads(text, object_hook=_decode)
    except json.JSONDecodeError as err:
        raise ArtifactError(f"{source}: not a JSON artifact ({err.msg} at line {err.lineno}); "
                            "give a file that scalelaw wrote (to_json, or the out option of a command)") from err
    except RecursionError:
        raise ArtifactError(f"{source}: not a scalelaw artifact (it nests deeper than {MAX_DEPTH} levels, "
                            "which no artifact does)") from None


def _nested(value):
    """``value`` with every nested artifact that carries a digest replaced by that digest."""
    if isinstance(value, dict):
        if isinstance(value.get("schema"), str) and DIGEST in value:
            return {DIGEST: value[DIGEST]}
        return {k: _nested(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nested(v) for v in value]
    return value


def digest(fields: Mapping) -> str:
    """The sha256 (hex) of a canonical encoding of artifact ``fields`` (sorted keys, no spaces,
    non-finite floats explicit); a nested artifact counts by its own digest."""
    text = json.dumps(_nested(encode(fields)), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@contextlib.contextmanager
def strict(on: bool = True) -> Iterator[None]:
    """Within the block, an artifact whose params_sha256 does not match is refused, not warned about."""
    token = STRICT.set(bool(on))
    try:
        yield
    finally:
        STRICT.reset(token)


def write_atomic(path: str | os.PathLike, content: str | bytes | Iterable[str]) -> Path:
    """Write text, bytes or pieces of text (written as they come) to ``path`` via a temporary file in the
    same folder and a rename, creating missing folders; a symbolic link, a folder or a device at ``path``
    is refused, not replaced (:mod:`scalelaw.outputs`).

    The file gets the mode any new file gets (0o666 less the umask: 0o644 under umask 022).
    """
    path = Path(path)
    outputs.write_all([(path, content)], parents=True)
    return path


def header(kind: str, schema: str) -> dict:
    return {"schema": schema, "kind": kind, "scalelaw_version": __version__}


def load(path: str | os.PathLike) -> dict:
    """Parse an artifact file (its schema is checked by the reader that uses it)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ArtifactError(f"{path}: no such file; give the JSON that scalelaw wrote (to_json, or the out "
                            "option of a command)") from err
    except (IsADirectoryError, UnicodeDecodeError) as err:
        raise ArtifactError(f"{path}: not a readable JSON artifact ({err})") from err
    return loads(text, source=str(path))


def read(path: str | os.PathLike, *, schema: str) -> dict:
    """Read an artifact and check its schema; another version of the schema is refused."""
    return check(load(path), schema=schema, source=str(path))


class JsonArtifact:
    """Saving and restoring for result classes that define ``SCHEMA``, ``to_dict`` and
    ``from_dict(payload, source=...)`` (which checks the schema)."""

    SCHEMA: str

    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The artifact as JSON text; written atomically to ``path`` when given."""
        text = dumps(self.to_dict())
        if path is not None:
            write_atomic(path, text)
        return text

    def json_chunks(self) -> Iterable[str]:
        """The artifact's text in pieces to write as they come (``"".join`` of them is :meth:`to_json`);
        results with many members give one piece per member."""
        return (self.to_json(),)

    def write_json(self, path: str | os.PathLike) -> Path:
        """Write the artifact atomically to ``path``, piece by piece, without holding its whole text."""
        return write_atomic(path, self.json_chunks())

    @classmethod
    def from_json(cls, source: str | os.PathLike, *, strict: bool = False):
        """Restore from a JSON file path or from JSON text (``strict``: refuse numbers edited by hand)."""
        text = str(source)
        with strict_if(strict):
            if text.lstrip().startswith("{"):
                return cls.from_dict(loads(text, source="JSON text"), source="JSON text")
            return cls.from_dict(load(source), source=str(source))


def strict_if(on: bool) -> contextlib.AbstractContextManager:
    """:func:`strict` when ``on``; otherwise whatever the caller set."""
    return strict(True) if on else contextlib.nullcontext()


def check(payload: dict, *, schema: str, source: str = "artifact", warn: bool = True) -> dict:
    """``payload`` when its schema is ``schema`` (else one ArtifactError line); with ``warn``, a warning when
    another scalelaw version wrote it (:func:`check_version`, which a caller that validates the fields
    first calls itself, so that a refused artifact gives its one error line alone)."""
    found = payload.get("schema") if isinstance(payload, dict) else None
    if found != schema:
        family = schema.split("/")[0]
        if isinstance(found, str) and found.split("/")[0] == family:
            raise ArtifactError(f"{source}: written with schema {found!r}; this scalelaw {__version__} "
                                f"reads {schema!r}; refit with this version or install the matching one")
        raise ArtifactError(f"{source}: not a {schema!r} artifact (schema {found!r})")
    if warn:
        check_version(payload, source, stacklevel=4)
    return payload


def check_version(payload: Mapping, source: str, *, stacklevel: int = 3) -> None:
    """Warn when another scalelaw version wrote ``payload`` (nothing when it does not say which)."""
    written = payload.get("scalelaw_version")
    if isinstance(written, str) and written != __version__:
        warnings.warn(f"{source} was written by scalelaw {written}; this is {__version__}", stacklevel=stacklevel)
