"""Raw SQL carrying many values (thousands of rows passed as arrays to ``unnest``).

Django's psycopg cursors bind parameters on the client: every value is quoted into the query
text in Python, which for the deadline jobs' bulk inserts cost more than the database's own
work. Here the values travel as parameters, bound by the server, on Django's connection and
inside its current transaction. ``prepare=False``: no named prepared statement is left behind
(PgBouncer in transaction mode, README « Performance »).
"""

from __future__ import annotations

import psycopg
from django.db import connection


def fetch_bound(sql: str, params: dict) -> list[tuple]:
    """Execute ``sql`` with server-side binding and return its rows."""
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=False)
        return cursor.fetchall() if cursor.description else []
