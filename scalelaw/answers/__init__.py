"""The questions a stored result answers, as JSON-ready payloads: what the command line prints as JSON
and what the service answers, built once here.

``answer(verb, result, **inputs)`` asks a loaded result (:func:`scalelaw.load`) one of the :data:`VERBS`:

* ``predict``: a fitted law (:class:`~scalelaw.FitResult`) at ``params=``, ``tokens=``, ``flops=``, ``set=``;
* ``optimal``: a loss law of N and D at ``flops=``; a datastore fit (the joint law) at ``flops=``,
  ``retriever_params=``, ``max_datastore=``, ``queries=``; a mixing law under ``cap=``, ``max_share=``,
  ``maximize=``;
* ``plan``: a sampling coverage fit at ``target=``, ``cost_per_sample=``, ``cost=``, ``problems=``;
* ``recommend``: a hyperparameter law at ``params=``, ``tokens=``, ``seq_len=``, ``batch_size=``,
  ``layers=``, ``d_model=``, ``moe=``, ``plateau=``.

:func:`recommend_published` and :func:`passk` need no stored result.  Inputs are numbers, texts with units
(``"70B"``, ``"1.4T"``, ``"6e23"``), comma-separated texts (``"1.4T,2.8T"``) or lists of those, and booleans
for flags; a wrong one raises :class:`~scalelaw.errors.InputError` naming it as ``name=`` (its ``field``).
Answers are plain JSON values, encoded as artifacts are: a NaN bound (a fit without bootstrap) is
``{"$float": "nan"}``, so an answer equals the parsed JSON the command line prints.

>>> import warnings
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")  # 7B and 1.4T lie beyond Step Law's sweep
...     lr = recommend_published(params="7B", tokens="1.4T")["lr"]
>>> f"{lr:.3g}"
'0.000917'
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

from scalelaw import artifact
from scalelaw.answers import datastore, hparams, loss, mixing, sampling
from scalelaw.answers.common import Answer
from scalelaw.errors import InputError

__all__ = ["VERBS", "Answer", "answer", "answered", "handler", "is_groups", "passk", "plain", "recommend_published"]

VERBS = ("predict", "optimal", "plan", "recommend")


def _is_fit(result: object) -> bool:
    from scalelaw.result import FitResult

    return isinstance(result, FitResult)


def _is_average(result: object) -> bool:
    from scalelaw.averaging import AveragedFit

    return isinstance(result, AveragedFit)


def _is_loss_law(result: object) -> bool:
    return (_is_fit(result) or _is_average(result)) and set(result.law.inputs) == {"N", "D"}


# verb -> (test of the result, the answer, what it answers), first match wins
HANDLERS: dict[str, tuple[tuple[Callable[[object], bool], Callable[..., Answer], str], ...]] = {
    "predict": ((_is_fit, loss.predict, "fitted laws (fit loss, a downstream law, ...)"),
                (_is_average, loss.predict, "law averages (fit_loss with law='auto')")),
    "optimal": ((datastore.is_datastore, datastore.optimal, "datastore fits (the joint law)"),
                (mixing.is_mixing, mixing.optimal, "mixing laws (mix fit)"),
                (_is_loss_law, loss.optimal, "loss laws of N and D (fit loss)")),
    "plan": ((sampling.is_coverage, sampling.plan, "sampling coverage fits (sampling fit)"),),
    "recommend": ((hparams.is_law, hparams.recommend, "hyperparameter laws (hparams fit)"),),
}


def describe(result: object) -> str:
    """What a result is, in a few words: ``a fit of the law 'chinchilla'``, ``a sampling coverage group``."""
    from scalelaw.result import FitGroup, FitResult

    if isinstance(result, FitResult):
        return f"a fit of the law {result.law.name!r}"
    if isinstance(result, FitGroup):
        return f"a {result.family} {result.kind} group"
    family, kind = getattr(result, "FAMILY", None), getattr(result, "KIND", None)
    return f"a {family} {kind}" if family and kind else f"a {type(result).__name__}"


def handler(verb: str, result: object) -> Callable[..., Answer]:
    """The function that answers ``verb`` for ``result`` (an InputError when none does)."""
    if verb not in HANDLERS:
        raise InputError(f"unknown question {verb!r}; ask one of {', '.join(VERBS)}")
    for applies, function, _ in HANDLERS[verb]:
        if applies(result):
            return function
    answers = "; ".join(what for _, _, what in HANDLERS[verb])
    raise InputError(f"{verb} does not apply to {describe(result)}; it answers {answers}")


@functools.lru_cache(maxsize=64)
def _accepted(function: Callable) -> tuple[str, ...]:
    return tuple(p.name for p in inspect.signature(function).parameters.values() if p.kind is p.KEYWORD_ONLY)


def _check_names(verb: str, function: Callable, inputs: dict) -> None:
    accepted = _accepted(function)
    unknown = [name for name in inputs if name not in accepted]
    if unknown:
        raise InputError(f"{verb}: unknown input {unknown[0]!r}; it takes "
                         + ", ".join(f"{name}=" for name in accepted), field=unknown[0])


def plain(payload: dict) -> dict:
    """A payload as the JSON it prints: lists, str keys, non-finite numbers as ``{"$float": "nan"}``."""
    return artifact.encode(payload)


def is_groups(result: object) -> bool:
    """A group fit made with ``by=`` (one fit per group of rows)."""
    from scalelaw.result import FitGroup

    return isinstance(result, FitGroup) and result.kind == "groups"


def answered(verb: str, result: object, /, **inputs) -> Answer:
    """:func:`answer` with the result object it was read from (the command line renders that).

    A group fit (``by=``) answers for its member ``group=`` or, without it, for every group:
    ``{"groups": {name: answer}, "warnings": [...]}``.
    """
    group = inputs.pop("group", None)
    if is_groups(result):
        if group is not None:
            return answered(verb, result[group], **inputs)
        each = {name: answered(verb, member, **inputs) for name, member in result.items()}
        return Answer({"groups": {name: a.payload for name, a in each.items()}, "by": list(result.info["by"]),
                       "warnings": list(result.warnings)}, each)
    if group is not None:
        raise InputError(f"group={group!r}: {describe(result)} is not one fit per group (fit with by=)",
                         field="group")
    function = handler(verb, result)
    _check_names(verb, function, inputs)
    return function(result, **inputs)


def answer(verb: str, result: object, /, **inputs) -> dict:
    """The JSON-ready answer of ``result`` to ``verb`` (one of :data:`VERBS`) at ``inputs``."""
    return plain(answered(verb, result, **inputs).payload)


def recommend_published(law: str = "steplaw", **inputs) -> dict:
    """``recommend`` by a published law (``steplaw``, ``deepseek``, ``porian``) at ``inputs``."""
    _check_names("recommend", hparams.recommend, inputs)
    return plain(hparams.recommend(hparams.published(law), **inputs).payload)


def passk(**inputs) -> dict:
    """pass@k and pass^k of per-problem counts ``rows=`` at ``k=`` (see :func:`.sampling.passk`)."""
    _check_names("passk", sampling.passk, inputs)
    return plain(sampling.passk(**inputs).payload)
