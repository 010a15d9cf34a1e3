"""The web tool: a hyperparameter calculator (``/``), a fit explorer (``/fits``) and a sample-budget planner
(``/sampling``).  The pages are templates with a small script that talks only to the API (``/v1``); every
asset is shipped in the package (no network)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from scalelaw._version import __version__

router = APIRouter(include_in_schema=False)
STATIC_TYPES = {"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"}


@lru_cache(maxsize=1)
def _templates():
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(loader=PackageLoader("scalelaw.service", "templates"), autoescape=select_autoescape())


def published_laws() -> list[dict]:
    """The published hyperparameter laws: name, title, sequence length and measured ranges (N, D, ...)."""
    from scalelaw.families.hyperparams.published import INFOS

    return [{"name": i.name, "title": i.title, "seq_len": i.seq_len,
             "ranges": {k: list(v) for k, v in i.ranges.items()}} for i in INFOS.values()]


def fit_commands() -> dict[str, list[str]]:
    """Family -> the commands that fit it (the upload form's lists)."""
    from scalelaw.cli.invoke import FIT_COMMANDS

    return {family: list(commands) for family, commands in FIT_COMMANDS.items()}


def _page(name: str, page: str, **context) -> HTMLResponse:
    html = _templates().get_template(name).render(page=page, version=__version__, **context)
    return HTMLResponse(html)


@router.get("/", response_class=HTMLResponse)
@router.get("/hparams", response_class=HTMLResponse)
def calculator(request: Request):
    """The hyperparameter calculator."""
    return _page("calculator.html", "hparams", laws=published_laws())


@router.get("/fits", response_class=HTMLResponse)
def explorer(request: Request):
    """The registry's fits and the upload form."""
    return _page("fits.html", "fits", families=fit_commands())


@router.get("/fits/{fit_id}", response_class=HTMLResponse)
def fit_page(request: Request, fit_id: str):
    """One fit: parameters, diagnostics, figure and its answers (filled by the script from the API)."""
    return _page("fit.html", "fits", fit_id=fit_id)


@router.get("/sampling", response_class=HTMLResponse)
def planner(request: Request):
    """The sample-budget planner."""
    return _page("sampling.html", "sampling")


@router.get("/static/{name}")
def static(name: str):
    """A shipped asset (the script and the style sheet)."""
    if name not in STATIC_TYPES:
        return Response(status_code=404)
    body = resources.files("scalelaw.service").joinpath("static", name).read_bytes()
    return Response(body, media_type=STATIC_TYPES[name], headers={"Cache-Control": "no-cache"})
