"""The module that owns the embedded services starts, reuses and stops them cleanly."""

import os

import psutil
import psycopg
import redis as redis_py

from cpf_portal import embedded


def test_private_redis_is_stopped_on_exit():
    with embedded.redis(None) as url:
        client = redis_py.Redis.from_url(url)
        assert client.ping()
        pid = client.info("server")["process_id"]
        assert psutil.pid_exists(pid)
    client.close()
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


def test_postgres_is_reused_while_another_user_holds_it():
    pgdata = embedded.VAR_DIR / "pgdata"
    before = _postmaster_pid(pgdata)
    with embedded.postgres() as url:
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT current_setting('server_version_num')::int").fetchone()[0] >= 180000
            assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname IN ('unaccent', 'pg_trgm')").fetchone()[0] in (0, 2)
            # Sized for the catalogue (reloaded at once; shared_buffers from the next start on).
            assert conn.execute("SHOW work_mem").fetchone()[0] == embedded.TUNING["work_mem"]
            assert conn.execute("SHOW effective_cache_size").fetchone()[0] == embedded.TUNING["effective_cache_size"]
            pending = conn.execute("SELECT setting FROM pg_file_settings WHERE name = 'shared_buffers' AND applied IS NOT NULL").fetchall()
            assert (embedded.TUNING["shared_buffers"],) in pending
        during = _postmaster_pid(pgdata)
        if before is not None:
            assert during == before  # reused, not restarted
    after = _postmaster_pid(pgdata)
    if before is not None:
        # Someone else (the `make test` wrapper) still uses it: it keeps running.
        assert after == before and psutil.pid_exists(after)


def _postmaster_pid(pgdata):
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text().splitlines()[0])
    return pid if psutil.pid_exists(pid) else None


def test_services_leave_servers_named_by_the_environment_alone(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://elsewhere/db")
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere:6379/0")
    with embedded.services() as env:
        assert env == {}
    assert os.environ["DATABASE_URL"] == "postgres://elsewhere/db"
