"""What `make run` does once the embedded services are up: migrate, load the demo data,
then run web + Celery worker + beat together (honcho, Procfile.dev) until Ctrl-C."""

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def site_url(env: dict) -> str:
    """The address the web process listens on (Procfile.dev: 127.0.0.1:$WEB_PORT), the same
    one settings.SITE_URL derives for links in e-mails."""
    return env.get("SITE_URL") or f"http://127.0.0.1:{env.get('WEB_PORT') or 8000}"


def main() -> int:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    for step in (["migrate", "--noinput"], ["load_demo"]):
        subprocess.run([*manage, *step], check=True, env=env, cwd=BASE_DIR)
    print(f"\nMon Compte Formation : {site_url(env)}  (Ctrl-C pour tout arrêter)\n", flush=True)
    honcho = str(bin_dir / "honcho")
    os.chdir(BASE_DIR)
    os.execve(honcho, [honcho, "-f", "Procfile.dev", "start"], env)
    return 0  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main())
