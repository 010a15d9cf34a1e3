"""Column roles: the canonical names readers use, their aliases, and mappings users give.

A column takes a role by its name (``params``), by a known alias (``"Model Size"``, ``N``), by the
last part of a W&B-style path (``model/params``, ``train/tokens``, ``eval/loss``), or by an explicit
mapping ``columns={"loss": "eval/loss"}``, which wins over every alias.  When several columns could
take a role, the role's own name wins, then an alias, then an eval path, then another path (a note
names the others); two that name it equally well (``N`` and ``n_params``) are refused.  A family may have its own
short names: in the sampling family ``n`` and ``c`` are the sample and correct counts, while
elsewhere ``N`` and ``C`` are parameters and FLOPs.

>>> canonical_name("Model Size")
'params'
>>> canonical_name("eval/loss"), canonical_name("c"), canonical_name("c", family="sampling")
('loss', 'flops', 'n_correct')
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pandas as pd

from scalelaw.errors import InputError

#: Canonical column -> accepted aliases (compared ignoring case, spaces, '-' and '_').
ALIASES: dict[str, tuple[str, ...]] = {
    "params": ("N", "n_params", "num_params", "nparams", "model_size", "Model Size", "parameters",
               "param_count", "non_embedding_params"),
    "tokens": ("D", "train_tokens", "training_tokens", "n_tokens", "num_tokens", "data_size"),
    "flops": ("C", "Training FLOP", "training_flops", "compute", "FLOPs", "flop"),
    "loss": ("final_loss", "train_loss", "eval_loss"),
    "lr": ("learning_rate",),
    "batch_size": ("bs", "batch_tokens"),
    "seq_len": ("sequence_length", "context_length"),
    "datastore_tokens": ("datastore_size", "datastore"),
    "n_samples": ("num_samples", "samples"),
    "n_correct": ("num_correct", "correct"),
    "accuracy": ("acc",),
    "model": ("model_name",),
}

#: A family's own short names, used by that family's reader instead of the general aliases.
FAMILY_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "sampling": {"n_samples": ("n", "num_samples", "samples"), "n_correct": ("c", "num_correct", "correct")},
}

#: Roles a mapping may name, besides the columns a reader asks for.
ROLES = (*ALIASES, "k", "task", "group", "run", "problem", "metric", "value", "error", "benchmark", "dataset",
         "n_accepted", "n_accepted_correct")

#: Path prefixes of logged metrics (W&B, TensorBoard); an eval metric wins over a train one.
EVAL_PREFIXES = ("eval", "val", "valid", "validation", "test")


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


_ALIAS_INDEX = {_key(alias): canon for canon, aliases in ALIASES.items() for alias in (canon, *aliases)}
_FAMILY_INDEX = {family: {_key(alias): canon for canon, aliases in table.items() for alias in (canon, *aliases)}
                 for family, table in FAMILY_ALIASES.items()}


def _lookup(key: str, family: str | None) -> str | None:
    own = _FAMILY_INDEX.get(family or "", {})
    return own.get(key) or _ALIAS_INDEX.get(key)


def _match(column: str, family: str | None) -> tuple[str, int] | None:
    """The role of a column name and its rank (0 the role itself, 1 an alias, 2 an eval path, 3 a path)."""
    canon = _lookup(_key(column), family)
    if canon is not None:
        return canon, 0 if _key(column) == _key(canon) else 1
    parts = [part for part in re.split(r"[/.]", str(column)) if part.strip()]
    if len(parts) < 2:
        return None
    canon = _lookup(_key(parts[-1]), family) or _lookup(_key("_".join(parts[-2:])), family)
    if canon is None:
        return None
    return canon, 2 if _key(parts[0]) in EVAL_PREFIXES else 3


def canonical_name(column: str, *, family: str | None = None) -> str:
    """The canonical name of a column, or the column itself when it is not a known alias."""
    found = _match(column, family)
    return found[0] if found else column


def find_column(frame: pd.DataFrame, name: str) -> str | None:
    """The frame's column called ``name``, exactly or ignoring case, spaces, '-' and '_'."""
    if name in frame.columns:
        return name
    return next((c for c in frame.columns if _key(c) == _key(name)), None)


def map_columns(
    frame: pd.DataFrame,
    *,
    path: str,
    columns: Mapping[str, str] | None = None,
    rename: bool = True,
    family: str | None = None,
    roles: Iterable[str] = (),
    strict: bool = True,
) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """Rename the frame's columns to roles; returns the frame, ``{file column: role}`` and notes.

    ``columns`` maps roles to the file's column names and wins over aliases; with ``strict`` a mapping
    to a column the file lacks is an error, otherwise it is skipped.  ``roles`` adds the columns the
    reader asks for to the roles a mapping may name.
    """
    given = _given(columns, path, roles)
    renamed: dict[str, str] = {}
    notes: list[str] = []
    for role, name in given.items():
        source = find_column(frame, name)
        if source is None:
            if strict:
                raise InputError(f"columns= maps {role} to {name!r}, which the file lacks; it has "
                                 f"{', '.join(map(repr, frame.columns))}", path=path)
            continue
        renamed[source] = role
    for role in renamed.values():
        if role in frame.columns and role not in renamed:
            frame = frame.drop(columns=role)
            notes.append(f"column {role!r} set aside: columns= gives that role to another column")
    if rename:
        notes += _claim(frame, renamed, family, path)
    frame = frame.rename(columns=renamed)
    return frame, renamed, notes


def _claim(frame: pd.DataFrame, renamed: dict[str, str], family: str | None, path: str) -> list[str]:
    """Give each role to the column that names it best (``renamed`` is updated); returns the notes.

    A column named as the role wins, then an alias, then an eval path, then another path; the others
    are said in a note.  Two columns that name a role equally well are refused, naming both.
    """
    given = set(renamed.values())
    named = set(frame.columns) - set(renamed)
    claims: dict[str, list[tuple[int, int, str]]] = {}
    for position, column in enumerate(frame.columns):
        found = None if column in renamed else _match(column, family)
        if found and found[0] != column and found[0] not in given:
            claims.setdefault(found[0], []).append((found[1], position, column))
    notes = []
    for role, candidates in claims.items():
        candidates.sort()
        names = [c[2] for c in candidates]
        if role in named:
            names.insert(0, role)
        elif len(candidates) > 1 and candidates[1][0] == candidates[0][0]:
            raise InputError(f"columns {names[0]!r} and {names[1]!r} both name the role {role} and neither is "
                             f"its better name; say which with columns= mapping {role} to one of them", path=path)
        else:
            renamed[names[0]] = role
        if len(names) > 1:
            notes.append(f"{names[0]!r} taken as {role}; {', '.join(map(repr, names[1:]))} also match "
                         f"(columns={{'{role}': ...}} chooses)")
    return notes


def _given(columns: Mapping[str, str] | None, path: str, roles: Iterable[str]) -> dict[str, str]:
    if not columns:
        return {}
    if not isinstance(columns, Mapping):
        raise InputError(f"columns= must map roles to column names, like {{'loss': 'eval/loss'}}; got {columns!r}",
                         path=path)
    known = dict.fromkeys((*ROLES, *roles))
    out = {}
    for role, name in columns.items():
        if role not in known:
            raise InputError(f"columns= role {role!r} is unknown; roles are {', '.join(known)}")
        if not isinstance(name, str) or not name.strip():
            raise InputError(f"columns= maps {role} to {name!r}; give the file's column name")
        out[role] = name.strip()
    targets = list(out.values())
    twice = next((n for n in targets if targets.count(n) > 1), None)
    if twice is not None:
        raise InputError(f"columns= gives column {twice!r} two roles; map each column once")
    return out
