"""A Spark Connect session for the Spark tests: the server scripts/spark_server.sh starts (the test
command starts it; SPARK_REMOTE names another). No server is a failure, never a skip."""

from __future__ import annotations

import os
import socket
import warnings
from urllib.parse import urlparse

import numpy as np
import pytest

import pikaplot_widget as pk

REMOTE = os.environ.get("SPARK_REMOTE", "sc://127.0.0.1:15002")


@pytest.fixture(scope="session")
def spark_session():
    address = urlparse(REMOTE.replace("sc://", "http://", 1))
    try:
        socket.create_connection((address.hostname, address.port or 15002), timeout=5).close()
    except OSError as error:
        pytest.fail(f"no Spark Connect server at {REMOTE} ({error}); run: bash scripts/spark_server.sh start")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pyspark on pandas 3
        session = pk.Session.spark(REMOTE)
    yield session
    session.close()


@pytest.fixture
def rng():
    return np.random.default_rng(20261201)
