"""Statements on a PostgreSQL server's maintenance database: create, copy, list and drop databases.

Both sides of a simulation need them: the orchestrator (listing, dropping
the run's databases) and a simulated Odoo.sh master (a staging build copies
production's database with ``CREATE DATABASE ... TEMPLATE``).
"""

from __future__ import annotations


def admin_execute(dsn: str, statement: str, *, fetch: bool = False) -> list[tuple]:
    """Run one statement in autocommit (CREATE/DROP DATABASE cannot run in a transaction)."""
    import psycopg2

    cnx = psycopg2.connect(dsn, dbname="postgres", connect_timeout=5)
    try:
        cnx.autocommit = True
        with cnx.cursor() as cr:
            cr.execute(statement)
            return cr.fetchall() if fetch else []
    finally:
        cnx.close()
