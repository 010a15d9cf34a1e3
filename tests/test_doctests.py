"""The Examples in the docstrings of scalelaw's modules run and print what they say."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import scalelaw

MODULES = sorted(m.name for m in pkgutil.walk_packages(scalelaw.__path__, "scalelaw."))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0
