"""Uploaded tables: saved under the job's own folder by their own name, hashed, and checked against the limits."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import shutil
import tempfile
from pathlib import Path

from scalelaw.errors import InputError
from scalelaw.service.config import Limits

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson", ".parquet", ".pq", ".xlsx", ".xls")


def safe_name(filename: str | None, default: str = "upload.csv") -> str:
    """The upload's own file name, reduced to one safe path part (messages name the file as uploaded)."""
    name = Path(str(filename or "")).name
    name = re.sub(r"[^\w.+-]", "_", name).lstrip(".")
    return name[:120] or default


def server_folder(work_dir: Path | None, server: str) -> Path:
    """The folder of the uploads waiting for this server's jobs: ``work_dir/SERVER``, emptied, since what it
    held belonged to jobs its restart has just marked interrupted (without ``work_dir``, a new temporary one)."""
    if work_dir is None:
        return Path(tempfile.mkdtemp(prefix="scalelaw-serve-"))
    folder = Path(work_dir) / safe_name(server, "server")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def job_folder(work_dir: Path) -> Path:
    folder = work_dir / f"job-{secrets.token_hex(8)}"
    folder.mkdir(parents=True)
    return folder


def save(source, folder: Path, filename: str, *, limit_bytes: int, chunk: int = 1 << 20) -> tuple[Path, str]:
    """Copy a readable binary stream into ``folder/filename``; its path and SHA-256 (hex).

    Refuses (and removes) a stream larger than ``limit_bytes``."""
    path, digest, size = folder / filename, hashlib.sha256(), 0
    with open(path, "wb") as out:
        while block := source.read(chunk):
            size += len(block)
            if size > limit_bytes:
                out.close()
                path.unlink(missing_ok=True)
                raise TooLarge(limit_bytes)
            digest.update(block)
            out.write(block)
    return path, digest.hexdigest()


def save_rows(rows: list, folder: Path, filename: str = "rows.jsonl") -> tuple[Path, str]:
    """JSON rows (a list of objects) written as JSON lines; the path and its SHA-256."""
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise InputError("rows: give a non-empty list of objects, one per run (column name -> value)", field="rows")
    text = "".join(json.dumps(row, allow_nan=False) + "\n" for row in rows)
    path = folder / safe_name(filename, "rows.jsonl")
    path.write_text(text)
    return path, hashlib.sha256(text.encode()).hexdigest()


class TooLarge(Exception):
    """An upload or a body over the size limit (answered 413)."""

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the request is larger than the limit of {limit_bytes / 2**20:g} MiB; "
                         "send a smaller file or start the server with a larger max_upload_mb")


def count_rows(path: Path) -> int:
    """Data rows of a table file, without parsing it (lines for text formats; the footer for parquet)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(path).metadata.num_rows
        except Exception:  # not parquet after all: the reader will say so
            return 0
    if path.suffix.lower() in (".xlsx", ".xls"):
        return 0
    with open(path, "rb") as handle:
        lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
    return lines if path.suffix.lower() in (".json", ".jsonl", ".ndjson") else max(lines - 1, 0)  # a header


def check_limits(fields: dict, paths: dict[str, Path], limits: Limits) -> None:
    """Refuse a request over the row, formula or bootstrap caps, naming the field."""
    for field, path in paths.items():
        rows = count_rows(path)
        if rows > limits.max_rows:
            raise InputError(f"{field}: {rows} rows is more than the limit of {limits.max_rows}; "
                             "send fewer rows or start the server with a larger max_rows", field=field)
    law = fields.get("law")
    if isinstance(law, str):
        if len(law) > limits.max_expression_chars:
            raise InputError(f"law: the formula has {len(law)} characters, more than the limit of "
                             f"{limits.max_expression_chars}", field="law")
        if nesting(law) > limits.max_nesting:
            raise InputError(f"law: the formula nests brackets deeper than the limit of {limits.max_nesting}",
                             field="law")
    bootstrap = fields.get("bootstrap")
    if bootstrap is not None:
        try:
            count = int(str(bootstrap))
        except ValueError:
            return  # the command's own option parser names the bad value
        if count > limits.max_bootstrap:
            raise InputError(f"bootstrap: {count} replicates is more than the limit of {limits.max_bootstrap}; "
                             "ask for fewer or start the server with a larger max_bootstrap", field="bootstrap")


def nesting(text: str) -> int:
    """The deepest nesting of brackets in a formula."""
    depth = deepest = 0
    for char in text:
        if char in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]}":
            depth -= 1
    return deepest


def json_depth(value, limit: int, depth: int = 0) -> int:
    """The nesting depth of a parsed JSON value, stopping once it passes ``limit``."""
    if depth > limit:
        return depth
    if isinstance(value, dict):
        return max((json_depth(v, limit, depth + 1) for v in value.values()), default=depth + 1)
    if isinstance(value, list):
        return max((json_depth(v, limit, depth + 1) for v in value), default=depth + 1)
    return depth
