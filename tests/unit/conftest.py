"""Shared fixtures: a fresh DuckDB session per test and seeded random generators."""

from __future__ import annotations

import numpy as np
import pytest

import pikaplot_widget as pk
from pikaplot_widget.engine.runner import QueryRunner


@pytest.fixture
def session():
    s = pk.Session()
    yield s
    s.close()


@pytest.fixture
def runner(session):
    r = QueryRunner(session.cursor())
    yield r
    r.close()


@pytest.fixture
def rng():
    return np.random.default_rng(20261124)
