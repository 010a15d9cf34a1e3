"""``--by`` on the commands whose family fit is more than one law (isoFLOP, validation, error laws, ...):
the family's own fit on each group's rows (``--jobs`` local processes or ``--backend dask``), written
and shown as one group result."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scalelaw.cli import options, render


def run(function: Callable, frame, grouping: dict, *, family: str, settings: dict, out: Path | None,
        plot: Path | None, json: bool, extra: dict | None = None) -> None:
    """Fit ``function(rows)`` (a module-level function or a partial of one) per group of ``grouping["by"]``;
    write ``--out``/``--plot``; print the groups."""
    from scalelaw import groups

    group = groups.each(function, frame, by=grouping["by"], strict=grouping["strict"], family=family,
                        settings=settings, **parallelism(grouping))
    show(group, out=out, plot=plot, json=json, extra=extra)


def parallelism(grouping: dict) -> dict:
    """``jobs``, ``backend`` and ``scheduler`` of the --by options, as the family calls take them."""
    return {name: grouping[name] for name in ("jobs", "backend", "scheduler")}


def show(group, *, out: Path | None, plot: Path | None, json: bool, extra: dict | None = None) -> None:
    """Write a group result to ``--out``/``--plot`` and print each group's report (or the JSON)."""
    options.write_result(group, out, plot)
    if json:
        render.emit_json(group.to_dict() | (extra or {}))
        return
    for name, member in group.items():
        render.line(f"{group.key} {name}:")
        render.line(member.report())
    for text in group.warnings:
        render.warn(render.as_options(text))
    render.wrote(out, plot)
