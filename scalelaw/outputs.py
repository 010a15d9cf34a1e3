"""Output files that cannot destroy anything: every path checked before any work, all written or none.

:func:`check` refuses, with one line naming the argument, an output that would replace one of the
inputs (the same file by inode, or an existing file inside an input folder), two outputs on one
file, a folder, a device, pipe, socket or any other non-regular file, a symbolic link (a link is
never written through, nor replaced), a read-only file, a folder that does not exist and one that
cannot be written (tested by creating and removing a temporary file there, which also holds for
root).  :func:`write_all` stages each output as a temporary file in its folder, then renames each
into place; if anything fails, the temporaries are removed and no new output is left.

Temporaries are hidden and random, ``.NAME.<12 hex digits>.tmp`` beside ``NAME``: a process killed
while writing leaves at most such a file, which no reader takes for an output.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from scalelaw.errors import InputError, OutputError

PathLike = str | os.PathLike


def new_temporary(path: Path) -> tuple[int, Path]:
    """A new hidden file beside ``path``, open for writing, with the mode open() gives (0o666 & ~umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue


def _label(name: str | None, path: Path) -> str:
    return f"{name}={str(path)!r}" if name else str(path)


def check_target(path: PathLike, name: str | None = None) -> None:
    """Refuse a path that writing would not simply create or replace as a regular file: a symbolic
    link, a folder, a device, pipe or socket.  ``name`` is the argument, named in the message."""
    path = Path(path)
    label = _label(name, path)
    if path.is_symlink():
        raise InputError(f"{label} is a symbolic link (to {os.readlink(path)}); outputs are never written "
                         "through a link nor replace one; give the file it points to, or another name")
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as err:
        raise InputError(f"{label}: cannot be examined ({err.strerror}); give another name") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{label} is a folder; give a file name")
    if not stat.S_ISREG(mode):
        raise InputError(f"{label} is not a regular file (a device, pipe or socket), which writing would "
                         "replace; give a file name")


def _folder(path: Path, label: str) -> None:
    """Refuse an output whose folder is missing, or in which no file can be created."""
    folder = path.parent
    if not folder.is_dir():
        what = "does not exist" if not folder.exists() else "is not a folder"
        raise InputError(f"{label}: the folder {folder} {what}; create it first or give another path")
    try:
        fd, probe = new_temporary(path)
    except OSError as err:
        raise InputError(f"{label}: cannot write in the folder {folder} ({err.strerror}); choose a folder "
                         "you can write to") from None
    os.close(fd)
    probe.unlink()
    if path.exists() and not os.access(path, os.W_OK):
        raise InputError(f"{label} is read-only; make it writable or give another name")


def _inside(path: Path, folder: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
    except ValueError:
        return False
    return True


def _same(a: Path, b: Path) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check(outputs: Mapping[str, PathLike | None], inputs: Iterable[PathLike] = (), *,
          folders: Mapping[str, PathLike | None] | None = None) -> list[Path]:
    """Refuse, before any work, outputs that could destroy a file (see the module); returns the paths given.

    ``outputs`` maps each argument's name to its path (None: not asked for); ``inputs`` are the files
    and folders the work reads; ``folders`` names output folders, written into (created if missing,
    in a folder that exists).  Raises :class:`~scalelaw.errors.InputError` naming the argument."""
    chosen = [(name, Path(p)) for name, p in outputs.items() if p is not None]
    read = [Path(p) for p in inputs if p is not None and os.path.exists(p)]
    for k, (name, path) in enumerate(chosen):
        label = _label(name, path)
        check_target(path, name)
        for source in read:
            if source.is_dir():
                if path.exists() and _inside(path, source):
                    raise InputError(f"{label} is inside the input folder {source}, whose files are read; "
                                     "writing it could replace one; write it elsewhere")
            elif path.exists() and _same(path, source):
                raise InputError(f"{label} is the input file {source}; writing it would replace the input; "
                                 "give another name")
        for other, earlier in chosen[:k]:
            if _same(path, earlier):
                raise InputError(f"{label} is also {_label(other, earlier)}; give each output its own file")
        _folder(path, label)
    for name, folder in (folders or {}).items():
        if folder is not None:
            _output_folder(Path(folder), _label(name, Path(folder)), read)
    return [path for _, path in chosen]


def _output_folder(folder: Path, label: str, read: list[Path]) -> None:
    if folder.is_symlink():
        raise InputError(f"{label} is a symbolic link (to {os.readlink(folder)}); give the folder it points to")
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{label} is a file; give a folder to write the files into")
    if any(_same(folder, source) or _inside(source, folder) for source in read):
        raise InputError(f"{label} holds an input of this command; give another folder")
    _folder(folder / "probe" if folder.is_dir() else folder, label)


def write_all(pairs: Iterable[tuple[PathLike | None, str | bytes | Iterable[str] | None]], *,
              parents: bool = False) -> list[Path]:
    """Write each (path, content) whose path and content are given: all staged first, then renamed.

    Text is written as UTF-8; content may be pieces of text, written as they come.  ``parents`` creates
    missing folders.  On any failure (interrupts included) every temporary is removed and no output that
    did not exist before is left (one that existed and was already replaced stays replaced); a system
    error is raised as
    :class:`~scalelaw.errors.OutputError` (an ``OSError``) naming the file.  Returns the paths written."""
    chosen = [(Path(p), c) for p, c in pairs if p is not None and c is not None]
    staged: list[tuple[Path, Path]] = []
    created: list[Path] = []
    path = None
    try:
        for path, content in chosen:
            check_target(path)
            if parents:
                path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = new_temporary(path)
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as handle:
                for piece in [content] if isinstance(content, str | bytes) else content:
                    handle.write(piece.encode("utf-8") if isinstance(piece, str) else piece)
        for tmp, path in staged:
            check_target(path)
            existed = os.path.lexists(path)
            os.replace(tmp, path)
            if not existed:
                created.append(path)
    except BaseException as err:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        for done in created:
            done.unlink(missing_ok=True)
        if isinstance(err, OSError):
            raise OutputError(f"{path}: cannot be written ({err.strerror or err}); no output was written") from err
        raise
    return [path for _, path in staged]
