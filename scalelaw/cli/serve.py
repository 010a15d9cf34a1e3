"""Commands of the service: serve (the HTTP API over a registry of fits) and token (who may use it)."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path
from typing import Annotated

import typer

from scalelaw.cli import options, render
from scalelaw.cli.app import app
from scalelaw.errors import ExtrapolationWarning, InputError


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind; other than loopback needs --token-file.")] = "127.0.0.1",
    port: Annotated[int, options.ranged(low=1, high=65535, integer=True, help="TCP port.")] = 8000,
    db: Annotated[str, typer.Option(help="Registry database: sqlite:///PATH (embedded, WAL) or "
                                         "postgresql+psycopg://USER@HOST:PORT/DB (shared by several servers).")]
    = "sqlite:///scalelaw-registry.db",
    token_file: Annotated[Path | None, typer.Option(help="File of hashed tokens ('scalelaw token' writes it); "
                                                         "without it, only loopback, and anyone local may write.")]
    = None,
    private: Annotated[bool, typer.Option("--private", help="Reads need a token too.")] = False,
    workers: Annotated[int, options.ranged(low=1, high=256, integer=True,
                                           help="Fit jobs run at once, each in its own process.")] = 2,
    max_upload_mb: Annotated[float, options.ranged(low=0, low_open=True,
                                                   help="Largest upload or body, in MiB.")] = 50.0,
    max_rows: Annotated[int, options.ranged(low=1, integer=True, help="Most rows in one uploaded table.")] = 1_000_000,
    max_bootstrap: Annotated[int, options.ranged(low=0, high=1_000_000, integer=True,
                                                 help="Most bootstrap replicates one fit may ask for.")] = 10_000,
    max_expression_chars: Annotated[int, options.ranged(low=1, integer=True,
                                                        help="Longest formula law, in characters.")] = 2_000,
    max_nesting: Annotated[int, options.ranged(low=1, integer=True,
                                               help="Deepest bracket nesting of a formula or a JSON body.")] = 32,
    queue_size: Annotated[int, options.ranged(low=1, integer=True,
                                              help="Fit jobs that may wait for a worker (more: 503).")] = 64,
    job_timeout_s: Annotated[float, options.ranged(low=0, low_open=True,
                                                   help="Wall time one fit may take, in seconds.")] = 600.0,
    request_timeout_s: Annotated[float, options.ranged(low=0, low_open=True,
                                                       help="How long ?wait=true waits for a fit, in seconds.")]
    = 60.0,
    name: Annotated[str | None, typer.Option(help="This server's name in the jobs table (default HOST:PORT); "
                                                  "a restart marks its unfinished jobs failed.")] = None,
    work_dir: Annotated[Path | None, typer.Option(help="Folder where uploads wait for their job, in a "
                                                       "subfolder per --name emptied at start (default: a "
                                                       "temporary folder).")] = None,
    backend: Annotated[str, typer.Option(help="Where fit jobs run: local (child processes of this server) or "
                                              "dask (tasks on a running Dask cluster, see --scheduler; needs "
                                              "pip install 'scalelaw[dask]'). Example: --backend dask "
                                              "--scheduler tcp://10.0.0.5:8786")] = "local",
    scheduler: Annotated[str | None, typer.Option(help="With --backend dask: the scheduler's address, e.g. "
                                                       "tcp://10.0.0.5:8786 (default: $SCALELAW_DASK_SCHEDULER); "
                                                       "it must answer within 3 s at start-up.")] = None,
    http: Annotated[str, typer.Option(help="HTTP parser: auto (httptools when installed), httptools or h11.")]
    = "auto",
    loop: Annotated[str, typer.Option(help="Event loop: auto (uvloop when installed), uvloop or asyncio.")]
    = "auto",
) -> None:
    """Run the prediction service: upload logs, fit them in worker processes, store the fits, ask them.

    Example: scalelaw serve --port 8000 --db sqlite:///registry.db --workers 2   (then open http://127.0.0.1:8000/docs)
    """
    from scalelaw.cli.options import use_file_backend
    from scalelaw.service import Limits, ServiceConfig

    limits = Limits(max_upload_mb=max_upload_mb, max_rows=max_rows, max_expression_chars=max_expression_chars,
                    max_nesting=max_nesting, max_bootstrap=max_bootstrap, queue_size=queue_size,
                    job_timeout_s=job_timeout_s, request_timeout_s=request_timeout_s)
    for label, value, known in (("--http", http, ("auto", "httptools", "h11")),
                                ("--loop", loop, ("auto", "uvloop", "asyncio"))):
        if value not in known:
            raise InputError(f"{label} {value}: give one of {', '.join(known)}")
        if value in ("httptools", "uvloop") and importlib.util.find_spec(value) is None:
            raise InputError(f"{label} {value}: {value} is not installed; pip install {value}, or give auto")
    config = ServiceConfig(host=host, port=port, db=db, token_file=token_file, private=private, workers=workers,
                           limits=limits, work_dir=work_dir, server_name=name, backend=backend,
                           scheduler=scheduler).check()
    import uvicorn

    from scalelaw.service import create_app

    use_file_backend()  # the plot endpoint draws off screen
    warnings.simplefilter("ignore", ExtrapolationWarning)  # every answer carries its warnings in the JSON

    application = create_app(config)
    render.note(f"scalelaw serving on http://{host}:{port} (registry {db.split('://')[0]}, {workers} workers"
                f"{', on Dask' if backend == 'dask' else ''}); "
                "open it for the hyperparameter calculator, /fits and /sampling; the API at /docs")
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False, timeout_keep_alive=30,
                http=http, loop=loop)


@app.command()
def token(
    name: Annotated[str, typer.Argument(help="Whose token: a person or a CI job (one word).", show_default=False)],
    token_file: Annotated[Path, typer.Option(help="Token file to add it to (created if missing).")],
    scope: Annotated[str, typer.Option(help="read (ask fits) or write (also upload and delete).")] = "write",
) -> None:
    """Create a token: prints the secret once and stores only its hash in the token file.

    Example: scalelaw token alice --scope write --token-file tokens.txt
    """
    from scalelaw.cli.options import check_outputs
    from scalelaw.service import auth

    check_outputs(token_file=token_file)
    secret, made = auth.new_token(name, scope)
    if token_file.exists():
        known = auth.read_tokens(token_file)
        if any(t.name == name for t in known):
            raise InputError(f"--token-file {token_file}: {name!r} already has a token; choose another name")
    with open(token_file, "a") as handle:
        handle.write(f"{made.name} {made.scope} {made.sha256}\n")
    token_file.chmod(0o600)
    render.raw(secret)
    render.note(f"added {name!r} ({scope}) to {token_file}; the secret is shown only now")
