"""Hypothesis strategies for option values: numbers out of range, nan/inf, huge and negative integers,
texts, unit suffixes, and values in range that are cheap to run."""

from __future__ import annotations

from hypothesis import strategies as st

ODD = ("nan", "inf", "-inf", "-1", "-5", "0", "1e-320", "1e999", "99999999999999999999999", str(2**64),
       str(2**32), "1e6", "1.5", "0.999999", "abc", "", " ", "7B", "1.4T", "0x10", "1_000", "--json", "-", "None")


def ints(low: int, high: int) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(ODD), st.integers(low, high).map(str),
                     st.integers(-(2**70), 2**70).map(str))


def floats() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(ODD), st.floats(allow_nan=True, allow_infinity=True).map(repr),
                     st.floats(-10, 10).map(repr))


def quantities() -> st.SearchStrategy[str]:
    """Sizes and budgets: 7B, 1e22, lists of them, and odd texts."""
    one = st.one_of(st.sampled_from(ODD), st.sampled_from(("7B", "70M", "1.4T", "1e22", "5.76e23", "1k")),
                    st.floats(-1e30, 1e30).map(repr))
    return st.one_of(one, st.lists(one, min_size=2, max_size=3).map(",".join))


def wheres() -> st.SearchStrategy[str]:
    columns = st.sampled_from(("params", "tokens", "loss", "nope", "", "Model Size"))
    ops = st.sampled_from(("=", "<", ">", "<=", ">=", "!=", "==", "~", " in ", ""))
    values = st.sampled_from(ODD) | st.text(max_size=6)
    return st.tuples(columns, ops, values).map("".join)


#: option -> (strategy of its value, cheapest valid value) for `fit loss`.
FIT_LOSS = {
    "--bootstrap": ints(0, 5), "--seed": ints(0, 2**32 - 1), "--delta": floats(), "--level": floats(),
    "--exclude-highest": ints(0, 20), "--jobs": ints(1, 1), "--max-iter": ints(0, 50), "--where": wheres(),
    "--starts": st.sampled_from(("default", "hoffmann", "", "nope", "0")), "--loss": st.sampled_from(
        ("huber", "squared", "nope", "")), "--tokens-unit": st.sampled_from(("auto", "tokens", "B", "nope", "")),
}


@st.composite
def fit_loss_options(draw) -> list[str]:
    """One to three options of `fit loss` with drawn values (an expensive valid bootstrap is kept small)."""
    chosen = draw(st.lists(st.sampled_from(sorted(FIT_LOSS)), min_size=1, max_size=3, unique=True))
    line = []
    for option in chosen:
        value = draw(FIT_LOSS[option])
        if option in ("--bootstrap", "--max-iter", "--jobs") and value.isdigit() and 50 < int(value) <= 10**6:
            value = "5"
        line += [option, value]
    return line


#: commands whose values are drawn: (command line before the values, [(option, strategy)]).
def answers() -> st.SearchStrategy[list[str]]:
    """Options of the commands that answer from a fit: predict, optimal, sampling plan, hparams recommend."""
    return st.one_of(
        st.tuples(quantities(), quantities()).map(lambda t: ["predict", "LOSS", "--params", t[0], "--tokens", t[1]]),
        quantities().map(lambda q: ["predict", "LOSS", "--flops", q, "--params", "7B"]),
        quantities().map(lambda q: ["optimal", "LOSS", "--flops", q]),
        floats().map(lambda v: ["sampling", "plan", "SAMPLING", "--target", v]),
        st.tuples(floats(), ints(1, 10**6)).map(lambda t: ["sampling", "plan", "SAMPLING", "--target", "0.5",
                                                           "--cost-per-sample", t[0], "--problems", t[1]]),
        st.tuples(quantities(), quantities(), ints(1, 10**5)).map(
            lambda t: ["hparams", "recommend", "--params", t[0], "--tokens", t[1], "--seq-len", t[2]]),
        st.tuples(quantities(), quantities()).map(lambda t: ["datastore", "optimal", "DATASTORE", "--flops", t[0],
                                                             "--max-datastore", t[1]]),
    )


#: Where `--out` and `--plot` may point: the input, a folder, a special file (a socket), a link out of the folder,
#: a path under a file, a missing folder, a fresh file; drawn independently, so both may name one path.
PLACES = ("input", "folder", "special", "link", "under-file", "missing/fit.json", "fresh.json", "fresh.png",
          "fresh.txt", "")


def output_places() -> st.SearchStrategy[tuple[str, str | None]]:
    return st.tuples(st.sampled_from(PLACES), st.sampled_from((*PLACES, None)))
