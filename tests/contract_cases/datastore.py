"""Contract cases of the datastore family, on the shipped MassiveDS-style simulation."""

from __future__ import annotations

import functools

from contract import case

from scalelaw.families import datastore as ds

from support import DATA


@functools.cache
def log() -> ds.Measurements:
    return ds.read(DATA / "datastore" / "massiveds_simulated.csv").select(
        metric="redpajama_ppl", readers=["pythia-1b", "olmo-7b", "llama-2-7b"])


@functools.cache
def joint() -> ds.JointFit:
    return ds.fit_joint(log(), metric="redpajama_ppl", bootstrap=20, seed=0)


def _reader(**settings) -> ds.ReaderFit:
    return ds.get_reader(ds.fit_readers(log(), **settings), "olmo-7b", "redpajama_ppl")


case("datastore.fit", lambda **s: ds.fit_datastore(log(), **s), law="joint", metric="redpajama_ppl", holdout=2,
     lm_only_at=1e9, loss="squared", bootstrap=10, seed=3, level=0.9,
     bad=lambda: ds.fit_datastore(log(), law="joint", metric="tqa_em"))
case("datastore.readers", lambda **s: ds.fit_readers(log(), **s), law="auto", holdout=2, lm_only_at=1e9,
     loss="squared", bootstrap=10, seed=1, level=0.95, bad=lambda: ds.fit_readers(log(), holdout=-1))
case("datastore.reader", _reader, law="log_linear", holdout=1, lm_only_at=1e9, loss="squared", bootstrap=0,
     seed=0, level=0.95, bad=lambda: _reader(law="no-such-law"))
case("datastore.joint", lambda **s: ds.fit_joint(log(), **s), metric="redpajama_ppl", holdout=2, loss="squared",
     starts="default", bootstrap=10, seed=2, level=0.95, bad=lambda: ds.fit_joint(log(), metric="nq_em"))
case("datastore.optimum", lambda **s: ds.optimal(joint(), **s), flops=[1e21, 1e22], cost=ds.RetrievalCost(),
     max_datastore=1.4e12, bad=lambda: ds.optimal(joint(), [-1.0]))
