"""Files on disk as text: one check that a path is a readable file and one decoding for every reader.

Text is UTF-8.  A byte-order mark declares another encoding and is honoured: UTF-8 (``EF BB BF``),
UTF-16 LE/BE (``FF FE`` / ``FE FF``) and UTF-32 LE/BE (``FF FE 00 00`` / ``00 00 FE FF``); the mark
is dropped.  Any other byte that is not UTF-8, and any NUL byte (UTF-16 without its mark, or a binary
file), is refused with one line naming the byte's offset (0-based, from the start of the file) and its
line, or its data row when the reader says on which line data rows start.

>>> decode("params,loss\\n7e9,2.1\\n".encode("utf-16"), "runs.csv")
'params,loss\\n7e9,2.1\\n'
>>> decode(b"params,loss\\n7e9,caf\\xe9\\n", "runs.csv", first_row=2)
Traceback (most recent call last):
...
scalelaw.errors.InputError: runs.csv, row 1 (line 2): the byte at offset 19 (0xe9) is not UTF-8; save the file as UTF-8
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from scalelaw.errors import InputError

#: Byte-order marks and the encodings they declare; the UTF-32 LE mark starts with UTF-16 LE's, so it
#: comes first.
BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xef\xbb\xbf", "utf-8"),
        (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))

#: The names the messages give the encodings.
_NAMES = {"utf-8": "UTF-8", "utf-16-le": "UTF-16 LE", "utf-16-be": "UTF-16 BE", "utf-32-le": "UTF-32 LE",
          "utf-32-be": "UTF-32 BE"}


def check_file(path: str | Path, *, folder: str = "give a file",
               empty: str = "it needs a header row and at least one data row") -> Path:
    """``path`` as a :class:`~pathlib.Path` once it is a non-empty regular file that can be looked at.

    ``folder`` and ``empty`` end the messages for a folder and an empty file.

    Raises
    ------
    InputError
        No such file, a folder, a device, pipe or socket, permission denied, an empty file.
    """
    p = Path(path)
    try:
        info = os.stat(p)
    except (FileNotFoundError, NotADirectoryError):
        raise InputError("no such file; check the path", path=str(path)) from None
    except OSError as err:
        raise unreadable(path, err) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"is a folder; {folder}", path=str(path))
    if not stat.S_ISREG(info.st_mode):
        raise InputError("is not a regular file (a device, pipe or socket); give a file", path=str(path))
    if info.st_size == 0:
        raise InputError(f"the file is empty; {empty}", path=str(path))
    return p


def unreadable(path: str | Path, err: OSError) -> InputError:
    """The error for a file the system will not let us read (permission, I/O error)."""
    if isinstance(err, PermissionError):
        return InputError("cannot be read: permission denied; check the permissions of the file and of its "
                          "folders", path=str(path))
    if isinstance(err, IsADirectoryError):
        return InputError("is a folder; give a file", path=str(path))
    return InputError(f"cannot be read ({err.strerror or type(err).__name__}); check the file", path=str(path))


def read_bytes(path: str | Path, size: int | None = None) -> bytes:
    """The file's bytes (the first ``size`` of them when given); system errors as one :class:`InputError`."""
    try:
        with open(path, "rb") as handle:
            return handle.read() if size is None else handle.read(size)
    except OSError as err:
        raise unreadable(path, err) from None


def encoding_of(data: bytes) -> tuple[str, int]:
    """The encoding a file's first bytes declare and the length of its mark (UTF-8 and 0 without one)."""
    for mark, encoding in BOMS:
        if data.startswith(mark):
            return encoding, len(mark)
    return "utf-8", 0


def decode(data: bytes, path: str | Path, *, first_row: int | None = None) -> str:
    """The text of a file's bytes, in the encoding its byte-order mark declares (UTF-8 without one).

    ``first_row`` is the line of data row 1 (2 under a header line, 1 for JSON lines): a bad byte on a
    data line is then named by its row as well.

    Raises
    ------
    InputError
        A byte that is not of the encoding, or a NUL byte, naming its offset and line.
    """
    encoding, start = encoding_of(data)
    try:
        text = data[start:].decode(encoding)
    except UnicodeDecodeError as err:
        offset = start + err.start
        name = _NAMES[encoding]
        if start:
            why = f"is not {name}, the encoding its byte-order mark declares; save the file as UTF-8"
        else:
            why = "is not UTF-8; save the file as UTF-8"
        line = data[start:offset].decode(encoding, errors="replace").count("\n") + 1
        raise _at(path, line, first_row, f"the byte at offset {offset} ({data[offset]:#04x}) {why}") from None
    nul = text.find("\x00")
    if nul >= 0:
        offset = start + len(text[:nul].encode(encoding))
        line = text.count("\n", 0, nul) + 1
        raise _at(path, line, first_row, f"the byte at offset {offset} is NUL: the file is binary, or UTF-16 "
                                         "or UTF-32 without a byte-order mark; save it as UTF-8")
    return text


def _at(path: str | Path, line: int, first_row: int | None, message: str) -> InputError:
    if first_row is not None and line >= first_row:
        return InputError(message, path=str(path), row=line - first_row + 1, line=line)
    return InputError(message, path=str(path), line=line)


def read_text(path: str | Path, *, first_row: int | None = None) -> str:
    """The file decoded by :func:`decode` (a byte-order mark honoured, other non-UTF-8 bytes refused)."""
    return decode(read_bytes(path), path, first_row=first_row)


def peek(data: bytes) -> str:
    """The text of a file's first bytes, for recognising its format (a byte-order mark honoured, bytes
    that do not decode dropped)."""
    encoding, start = encoding_of(data)
    return data[start:].decode(encoding, errors="ignore")
