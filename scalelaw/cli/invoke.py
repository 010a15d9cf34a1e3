"""A fit command run from named fields: the service's fit requests take the CLI's options, by the same names.

A request names a family (and, where the family has several fit commands, the command) and gives options
as fields named like the command's options (``exclude_highest`` or ``exclude-highest`` for
``--exclude-highest``); files are uploads, never paths.  :func:`prepare` checks the fields against the
command and turns them into its arguments; :func:`run` runs the command on the uploaded files and returns
the artifact it writes with ``--out``.  Parsing with the command's own options keeps the two in step:
the same names, defaults, units and messages.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from scalelaw.errors import InputError, ScalelawError

FIT_COMMANDS: dict[str, dict[str, tuple[str, ...]]] = {
    "loss": {"fit": ("fit", "loss"), "isoflop": ("fit", "isoflop"), "validate": ("validate", "loss")},
    "hparams": {"fit": ("hparams", "fit")},
    "sampling": {"fit": ("sampling", "fit")},
    "datastore": {"fit": ("datastore", "fit")},
    "downstream": {"error-law": ("downstream", "error-law"), "ladder": ("downstream", "ladder"),
                   "observational": ("downstream", "observational"), "chain": ("downstream", "chain")},
    "transport": {"mix": ("mix", "fit"), "project": ("transport", "project"), "select": ("transport", "select")},
}
"""Family -> its commands that write a result with ``--out``; the first is the family's default."""

WRITTEN_BY_THE_SERVICE = ("out", "plot", "json", "quiet")
TRUE, FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


@dataclass(frozen=True)
class Invocation:
    """A command and its arguments, files apart: ``files`` maps each file input to its upload field."""

    family: str
    command: str
    words: tuple[str, ...]
    options: tuple[str, ...]
    files: tuple[tuple[str, str], ...]

    @property
    def title(self) -> str:
        return "scalelaw " + " ".join(self.words)


def command_for(family: str, command: str | None = None) -> tuple[str, tuple[str, ...]]:
    """The command name and its words for a family (its default command when ``command`` is None)."""
    commands = FIT_COMMANDS.get(family)
    if commands is None:
        raise InputError(f"family: unknown family {family!r}; use one of {', '.join(FIT_COMMANDS)}", field="family")
    name = command or next(iter(commands))
    if name not in commands:
        raise InputError(f"command: the {family} family fits with {', '.join(commands)}, not {name!r}",
                         field="command")
    return name, commands[name]


@lru_cache(maxsize=32)
def _parameters(words: tuple[str, ...]) -> tuple:
    from typer.main import get_command

    from scalelaw.cli import app

    command = get_command(app)
    for word in words:
        command = command.commands[word]
    return tuple(command.params)


def field_name(parameter) -> str:
    """The request field of a command parameter: its long option without dashes (``--exclude-highest`` ->
    ``exclude_highest``), or the argument's name; the first file argument is ``file``."""
    if parameter.param_type_name == "argument":
        return parameter.name
    return max(parameter.opts, key=len).lstrip("-").replace("-", "_")


def fields_of(family: str, command: str | None = None) -> dict[str, str]:
    """Request field -> ``"file"`` (an upload), ``"flag"``, ``"list"`` or ``"value"`` for a fit command."""
    _, words = command_for(family, command)
    out = {}
    for parameter in _parameters(words):
        name = field_name(parameter)
        if name in WRITTEN_BY_THE_SERVICE:
            continue
        if parameter.type_descriptor.annotation is Path:
            out[name] = "file"
        elif parameter.is_flag if parameter.param_type_name == "option" else False:
            out[name] = "flag"
        else:
            out[name] = "list" if getattr(parameter, "multiple", False) else "value"
    return out


def _flag(name: str, value) -> bool:
    text = str(value).strip().lower()
    if isinstance(value, bool) or text in TRUE + FALSE:
        return value if isinstance(value, bool) else text in TRUE
    raise InputError(f"{name}: {value!r} is not true or false", field=name)


def prepare(family: str, command: str | None, fields: Mapping[str, object],
            uploads: Mapping[str, str] = ()) -> Invocation:
    """Check request fields against a fit command and spell them as its options.

    ``fields`` maps field names to strings, numbers, booleans or lists of those; ``uploads`` holds the
    names of the uploaded file parts.  Unknown fields, paths given as text and missing files are refused
    with one line naming the field."""
    name, words = command_for(family, command)
    kinds = fields_of(family, name)
    by_field = {field_name(p): p for p in _parameters(words)}
    arguments = [field_name(p) for p in _parameters(words) if p.param_type_name == "argument"]
    options: list[str] = []
    for raw, value in fields.items():
        key = str(raw).replace("-", "_")
        if key in WRITTEN_BY_THE_SERVICE:
            raise InputError(f"{key}: the service writes the artifact and the figure itself; leave this field out",
                             field=key)
        kind = kinds.get(key)
        if kind is None:
            raise InputError(f"{key}: not an option of 'scalelaw {' '.join(words)}'; it takes "
                             f"{', '.join(sorted(k for k in kinds if k not in arguments))}", field=key)
        if kind == "file":
            raise InputError(f"{key}: give this file as an uploaded part named {key!r}, not as text", field=key)
        option = max(by_field[key].opts, key=len)
        if kind == "flag":
            if _flag(key, value):
                options.append(option)
            continue
        values = value if isinstance(value, list | tuple) else [value]
        if kind == "value" and len(values) != 1:
            raise InputError(f"{key}: give one value, not {len(values)}", field=key)
        for item in values:
            options += [option, str(item)]
    files = []
    for key, kind in kinds.items():
        if kind != "file":
            continue
        upload = "file" if arguments and key == arguments[0] else key
        if upload in uploads:
            files.append((key, upload))
        elif key in arguments and by_field[key].required:
            raise InputError(f"{upload}: upload the {key} file as a multipart part named {upload!r}", field=upload)
    unused = set(uploads) - {upload for _, upload in files}
    if unused:
        raise InputError(f"{sorted(unused)[0]}: 'scalelaw {' '.join(words)}' takes no file of that name",
                         field=sorted(unused)[0])
    return Invocation(family, name, words, tuple(options), tuple(files))


def run(invocation: Invocation, paths: Mapping[str, Path], out: Path) -> str:
    """Run the command on the uploaded files (upload field -> saved path) and return the artifact text.

    User mistakes raise :class:`~scalelaw.errors.ScalelawError` with the command's one-line message; the
    command's printed output is discarded."""
    import warnings

    from scalelaw.cli import render
    from scalelaw.cli.app import app, flag_defaults

    parameters = {field_name(p): p for p in _parameters(invocation.words)}
    argv = list(invocation.words)
    for key, upload in invocation.files:
        if parameters[key].param_type_name == "argument":
            argv.append(str(paths[upload]))
    for key, upload in invocation.files:
        if parameters[key].param_type_name == "option":
            argv += [max(parameters[key].opts, key=len), str(paths[upload])]
    argv += [*invocation.options, "--out", str(out)]
    render.command_line = argv
    sink = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        try:
            app(args=argv, prog_name="scalelaw", standalone_mode=False, default_map=flag_defaults())
        except ScalelawError:
            raise
        except Exception as err:  # click's usage errors: a value the option's type refuses
            param = getattr(err, "param", None)
            if param is None or not hasattr(err, "format_message"):
                raise
            key = field_name(param)
            raise InputError(f"{key}: {err.format_message()}", field=key) from None
    if not out.exists():
        raise InputError(f"'{invocation.title}' wrote no result for these options")
    return out.read_text()
