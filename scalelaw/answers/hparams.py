"""The answer of a hyperparameter law: ``recommend``, a peak learning rate and a batch size for N and D."""

from __future__ import annotations

from scalelaw.answers.common import Answer, flag, real
from scalelaw.errors import InputError
from scalelaw.io import values


def is_law(result: object) -> bool:
    """Whether ``result`` is a hyperparameter law (``hparams fit``, or a published one)."""
    from scalelaw.families import hyperparams as family

    return family.is_law(result)


def recommend(law, *, params=None, tokens=None, seq_len=None, batch_size=None, layers=None, d_model=None,
              moe: bool = False, plateau=None) -> Answer:
    """The law's peak lr and batch size (tokens and sequences) for N = ``params`` and D = ``tokens``, with
    intervals; ``batch_size``: a batch you must use (its lr too); ``layers`` and ``d_model`` for laws in
    FLOPs with attention (DeepSeek); ``seq_len`` tokens per sequence (default 2048); ``plateau``: a fitted
    law (already loaded) whose loss surfaces give the plateau.  The result is the ``Recommendation``."""
    from scalelaw.families import hyperparams as family

    n, d = values.one("params=", params), values.one("tokens=", tokens)
    if n is None or d is None:
        raise InputError("give params= (non-embedding parameters N; MoE: total) and tokens= (training tokens D)",
                         field="params" if n is None else "tokens")
    settings = {"seq_len": real("seq_len=", seq_len, positive=True),
                "batch_size": real("batch_size=", batch_size, positive=True),
                "n_layers": real("layers=", layers, positive=True),
                "d_model": real("d_model=", d_model, positive=True)}
    surfaces = None
    if plateau is not None:
        surfaces = family.check_law(plateau, source="plateau=").info["plateau"]
        if surfaces is None:
            raise InputError("plateau=: the fit has no loss surfaces; refit with plateau_window > 0", field="plateau")
    r = family.recommend(family.check_law(law), n, d, moe=flag("moe=", moe), plateau=surfaces, **settings)
    return Answer(r.to_dict(), r)


def published(name: str = "steplaw"):
    """A published law by name (``steplaw``, ``deepseek``, ``porian``), with Step Law's bootstrap rows when
    ``$SCALELAW_STEPLAW_BOOTSTRAP`` names them (as the command line)."""
    from scalelaw.families import hyperparams as family

    return family.published(str(name))
