"""Parallel runs (pytest-xdist): each worker has its own Celery broker database."""

import os

import pytest
from django.db import connection

from cpf_portal.celery import app
from cpf_portal.testing import worker_broker_url


@pytest.mark.parametrize(
    "url, worker, expected",
    [
        ("redis+socket:///tmp/cpf-redis-x/redis.socket", "gw0", "redis+socket:///tmp/cpf-redis-x/redis.socket?virtual_host=1"),
        ("redis+socket:///run/redis.sock?virtual_host=0", "gw3", "redis+socket:///run/redis.sock?virtual_host=4"),
        ("redis://127.0.0.1:6379/0", "gw1", "redis://127.0.0.1:6379/2"),
        ("redis://:secret@redis.example:6379", "gw0", "redis://:secret@redis.example:6379/1"),
    ],
)
def test_each_worker_gets_its_own_redis_database(url, worker, expected):
    assert worker_broker_url(url, worker) == expected


def test_redis_has_sixteen_databases():
    with pytest.raises(RuntimeError, match="au plus 15"):
        worker_broker_url("redis://127.0.0.1:6379/0", "gw15")


def test_this_process_uses_its_workers_broker_and_database(db):
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker is None:  # one process: the broker of settings, the plain test database
        assert not connection.settings_dict["NAME"].endswith("_gw0")
        assert "virtual_host=" not in app.conf.broker_url
    else:
        assert connection.settings_dict["NAME"].endswith(f"_{worker}")
        db = int(worker.removeprefix("gw")) + 1
        assert app.conf.broker_url.endswith((f"virtual_host={db}", f"/{db}"))
