"""The web process under load: gunicorn as in production (DEBUG off, 3 sync workers, gzip,
whitenoise, JSON logs) on the 200,000-formation catalogue, driven by wrk from a second process
on loopback at concurrency 4, 16 and 64.

Pages: the home page; the search results page with real traffic's mix (the bench's 200
searches drawn with a Zipf law: popular searches repeat), then the same mix on a server whose
cache is off, so that no request is served from it; a formation's page (Zipf over 200
formations); and a bare Django view (same middleware, no database, no template) measured in
the same run: the search page / bare view ratio is computed per concurrency.

    make bench-web     # wrk comes from Debian's packages (apt-get install wrk)

BENCH_WEB_FORMATIONS (default 200000) chooses the catalogue; BENCH_WEB_SECONDS (default 10) the
length of each measure. Prints a table, asserts nothing but that every response was a 200.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from common import BASE_DIR, database_name, ensure_data, page_params, query_mix

from catalogue.models import Formation

FORMATIONS = int(os.environ.get("BENCH_WEB_FORMATIONS", 200_000))
SECONDS = int(os.environ.get("BENCH_WEB_SECONDS", 10))
CONCURRENCY = [int(c) for c in os.environ.get("BENCH_WEB_CONCURRENCY", "4,16,64").split(",")]
WORKERS = int(os.environ.get("WEB_CONCURRENCY", 3))
DRAWS = 20_000  # length of the request sequence each wrk run cycles through

LUA = """
local paths = {%s}
local i = 0
wrk.headers["Accept-Encoding"] = "gzip"
request = function()
  i = i + 1
  if i > #paths then i = 1 end
  return wrk.format("GET", paths[i])
end
"""


def zipf_sequence(paths: list[str], rng: random.Random) -> list[str]:
    """DRAWS paths drawn with probability ∝ 1/rank (the first path the most popular)."""
    weights = [1 / rank for rank in range(1, len(paths) + 1)]
    return rng.choices(paths, weights=weights, k=DRAWS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(static_root: Path) -> dict:
    """The environment of a production web node (DEBUG off), on the bench database."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "EMAIL_URL": "consolemail://",
        "STATIC_ROOT": str(static_root),
        "DATABASE_URL": urlunsplit(parts._replace(path="/" + database_name(FORMATIONS))),
        "PYTHONPATH": str(BASE_DIR),
    }


class Server:
    """gunicorn on the bench database, as the Procfile runs it."""

    def __init__(self, static_root: Path, *, cache: bool):
        self.port = free_port()
        env = {**production_env(static_root), "DJANGO_SETTINGS_MODULE": "bench.settings", "BENCH_CACHE": "on" if cache else "off"}
        command = [str(Path(sys.executable).parent / "gunicorn"), "cpf_portal.wsgi", "--bind", f"127.0.0.1:{self.port}", "--workers", str(WORKERS)]
        self.process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/sante/vivant/", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError("gunicorn n'a pas démarré") from None
                time.sleep(0.3)

    def worker_peak_rss_mb(self) -> list[float]:
        """VmHWM (peak resident memory) of each worker process."""
        import psutil

        peaks = []
        for child in psutil.Process(self.process.pid).children():
            status = Path(f"/proc/{child.pid}/status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
        return peaks

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)


def wrk(url: str, paths: list[str], concurrency: int, seconds: int, script_dir: Path) -> dict:
    script = script_dir / "mix.lua"
    script.write_text(LUA % ", ".join('"' + p.replace("\\", "\\\\").replace('"', '\\"') + '"' for p in paths))
    output = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: .*", output)
    if errors or socket_errors:
        raise RuntimeError(f"Réponses en erreur pendant la mesure :\n{output}")

    def latency(percent: str) -> float:
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), "p50": latency("50"), "p99": latency("99")}


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk est nécessaire : apt-get install wrk")
    ensure_data(FORMATIONS)
    rng = random.Random(7)
    searches = []
    for q in query_mix(random.Random(42)):
        searches.append("/formations/recherche/?" + urlencode(page_params(q)))
    rng.shuffle(searches)  # popularity is not the order of kinds in the mix
    numeros = list(Formation.objects.published().order_by("?").values_list("numero", flat=True)[:200])
    details = [f"/formations/{numero}/" for numero in numeros]
    scenarios = [
        ("accueil", ["/"], True),
        ("recherche (mélange Zipf, cache)", zipf_sequence(searches, rng), True),
        ("recherche sans cache", zipf_sequence(searches, rng), False),
        ("détail d'une formation (Zipf)", zipf_sequence(details, rng), True),
        ("vue Django nue", ["/bench/nu/"], True),
    ]
    with tempfile.TemporaryDirectory(prefix="cpf-bench-web-") as tmp:
        tmp = Path(tmp)
        static_root = tmp / "static"
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=BASE_DIR,
            env=production_env(static_root),
            check=True,
        )
        servers = {True: Server(static_root, cache=True), False: Server(static_root, cache=False)}
        results: dict[tuple[str, int], dict] = {}
        try:
            # A server in service: each distinct page has been asked for once already (the
            # cache-less server computes every request anyway).
            for _name, paths, cached in scenarios:
                for path in sorted(set(paths)):
                    urllib.request.urlopen(servers[cached].url + path, timeout=30).read()
            for concurrency in CONCURRENCY:
                for name, paths, cached in scenarios:
                    server = servers[cached]
                    wrk(server.url, paths, concurrency, 2, tmp)  # warm up (buffers, cache, connections)
                    results[name, concurrency] = wrk(server.url, paths, concurrency, SECONDS, tmp)
                    print(f"  {name:<34} c={concurrency:<3} {results[name, concurrency]['rps']:8.1f} req/s", flush=True)
            rss = {cached: server.worker_peak_rss_mb() for cached, server in servers.items()}
        finally:
            for server in servers.values():
                server.stop()

    print(
        f"\n{FORMATIONS} formations ; gunicorn {WORKERS} processus synchrones, DEBUG faux, gzip ; wrk 1 fil, {SECONDS} s par mesure "
        f"(après 2 s de chauffe) ; {os.cpu_count()} cœurs pour tout (PostgreSQL, Redis, gunicorn, wrk).\n"
    )
    header = f"{'page':<34}| {'c':>3} | {'req/s':>8} | {'p50 (ms)':>8} | {'p99 (ms)':>8} | {'/ vue nue':>9}"
    print(header)
    print("-" * len(header))
    for name, _paths, _cached in scenarios:
        for concurrency in CONCURRENCY:
            r = results[name, concurrency]
            ratio = r["rps"] / results["vue Django nue", concurrency]["rps"]
            print(f"{name:<34}| {concurrency:>3} | {r['rps']:8.1f} | {r['p50']:8.1f} | {r['p99']:8.1f} | {ratio:9.2f}")
    for cached, label in ((True, "avec cache"), (False, "sans cache")):
        peaks = rss[cached]
        print(f"\nMémoire résidente de pointe par processus gunicorn ({label}) : " + ", ".join(f"{mb:.0f} Mo" for mb in peaks))


if __name__ == "__main__":
    main()
