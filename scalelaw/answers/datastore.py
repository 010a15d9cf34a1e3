"""The answer of a joint datastore law L(N, D, S): ``optimal``, the best (N, D, S) per FLOPs budget."""

from __future__ import annotations

import math

from scalelaw.answers.common import Answer, real
from scalelaw.errors import InputError
from scalelaw.io import values


def is_datastore(result: object) -> bool:
    """Whether ``result`` is a datastore fit (``datastore fit``) or its joint law."""
    from scalelaw.families import datastore as family

    return isinstance(result, (family.DatastoreFit, family.JointFit))


def joint_of(result: object):
    """The joint law L(N, D, S) of a datastore fit (or the joint law itself)."""
    from scalelaw.families import datastore as family

    if isinstance(result, family.JointFit):
        return result
    if not isinstance(result, family.DatastoreFit) or result.joint is None:
        raise InputError("the datastore fit holds per-reader laws; the optimal (N, D, S) needs the joint law: fit "
                         "it with law='joint' and one metric")
    return result.joint


def inputs(*, flops=None, retriever_params="110M", max_datastore=None, queries="0") -> dict:
    """The inputs of :func:`optimal` parsed and checked: budgets, the datastore cap and the cost."""
    from scalelaw.families import datastore as family

    budgets = values.numbers("flops=", flops)
    if not budgets:
        raise InputError("give flops=, the training budget in FLOPs (6 N D + 2 N_r S), e.g. 1e22", field="flops")
    cap = real("max_datastore=", max_datastore, positive=True)
    served = values.number("queries=", queries, positive=False)
    if not served >= 0 or served == math.inf:
        raise InputError(f"queries=: {queries!r} must be a number >= 0", field="queries")
    cost = family.RetrievalCost(retriever_params=values.number("retriever_params=", retriever_params),
                                queries=served)
    return {"flops": budgets, "max_datastore": cap, "cost": cost}


def optimal(result, *, flops=None, retriever_params="110M", max_datastore=None, queries="0") -> Answer:
    """Compute-optimal reader size N, pretraining tokens D and datastore tokens S for each FLOPs budget
    (C = 6 N D + 2 N_r S), with intervals; the result is the datastore ``Optimum``."""
    from scalelaw.families import datastore as family

    given = inputs(flops=flops, retriever_params=retriever_params, max_datastore=max_datastore, queries=queries)
    joint, cost = joint_of(result), given["cost"]
    best = family.optimal(joint, given["flops"], cost=cost, max_datastore=given["max_datastore"])
    rows = [{k: (bool(v) if k == "at_cap" else float(v)) for k, v in row.items()}
            | {"metric": best.metric, "level": best.level, "cost": cost.to_dict()}
            for _, row in best.to_frame().iterrows()]
    payload = (rows[0] | {"warnings": list(best.warnings)} if len(rows) == 1 else
               {"optima": rows, "warnings": list(best.warnings)})
    return Answer(payload, best)
