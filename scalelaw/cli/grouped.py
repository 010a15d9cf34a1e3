"""``--by`` on the commands whose family fit is more than one law (isoFLOP, validation, error laws, ...):
the family's own fit on each group's rows, written and shown as one group result."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scalelaw.cli import options, render
from scalelaw.errors import InputError


def run(function: Callable, frame, grouping: dict, *, family: str, settings: dict, out: Path | None,
        plot: Path | None, json: bool, extra: dict | None = None) -> None:
    """Fit ``function(rows)`` per group of ``grouping["by"]``; write ``--out``/``--plot``; print the groups."""
    from scalelaw import groups

    check(grouping)
    group = groups.each(function, frame, by=grouping["by"], strict=grouping["strict"], family=family,
                        settings=settings)
    show(group, out=out, plot=plot, json=json, extra=extra)


def check(grouping: dict) -> None:
    """Refuse --jobs and --backend, which only the batched law fits of ``fit loss --by`` use."""
    if grouping["jobs"] != 1 or grouping["backend"] != "local":
        raise InputError("--jobs and --backend batch the law fits of fit loss --by; this command fits its "
                         "groups one after the other")


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
