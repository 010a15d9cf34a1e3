"""The datastore family: scaling laws for retrieval-based LMs (MassiveDS, Shao et al. 2024).

A team measures a perplexity or an accuracy at several datastore sizes for a few reader models
and pretraining lengths, and asks how the metric scales with the datastore, how far a bigger one
will carry it, and which reader size, pretraining tokens and datastore size are best for a
training budget.

* :func:`read` / :func:`prepare`: validate a log and average its seeds (:mod:`.data`).
* :func:`fit_readers`: a group of per (reader, metric) ``log_linear`` and ``saturating`` laws in datastore
  size, chosen by held-out error on the largest sizes (:mod:`.readers`).
* :func:`fit_joint`: L(N, D, S) = E + A/N^alpha + B/D^beta + C/S^gamma across readers, and
  :func:`compare` with the per-reader laws (:mod:`.joint`).
* :class:`RetrievalCost`, :func:`frontier`, :func:`optimal`: FLOPs accounting, the Pareto frontier
  of measured configurations and the compute-optimal (N, D, S) for a budget (:mod:`.compute`).
* :func:`simulate`: MassiveDS-style measurements from a known law (:mod:`.simulate`).
* :func:`fit_datastore` / :class:`DatastoreFit`: what ``scalelaw datastore fit`` answers (:mod:`.store`).
"""

from scalelaw.families.datastore.compute import RETRIEVER_PARAMS, Optimum, RetrievalCost, frontier, optimal
from scalelaw.families.datastore.data import Measurements, Metric, prepare, read
from scalelaw.families.datastore.joint import JointFit, compare, fit_joint
from scalelaw.families.datastore.laws import JOINT, LOG_LINEAR, saturating
from scalelaw.families.datastore.readers import (
    LM_ONLY_AT,
    Choice,
    ReaderFit,
    fit_readers,
    get_reader,
    reader_table,
)
from scalelaw.families.datastore.simulate import LAWS as SIMULATED_LAWS
from scalelaw.families.datastore.simulate import simulate
from scalelaw.families.datastore.store import DatastoreFit, fit_datastore

__all__ = [
    "JOINT",
    "LM_ONLY_AT",
    "LOG_LINEAR",
    "RETRIEVER_PARAMS",
    "SIMULATED_LAWS",
    "Choice",
    "DatastoreFit",
    "JointFit",
    "Measurements",
    "Metric",
    "Optimum",
    "ReaderFit",
    "RetrievalCost",
    "compare",
    "fit_joint",
    "fit_datastore",
    "fit_readers",
    "frontier",
    "get_reader",
    "optimal",
    "prepare",
    "read",
    "reader_table",
    "saturating",
    "simulate",
]
