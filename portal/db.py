"""Database connection helpers that must not import models (the settings import this)."""

import select

import psycopg
from psycopg_pool import ConnectionPool


def check_pooled_connection(conn: psycopg.Connection) -> None:
    """The pool's check on every connection it hands out, without a round trip if possible.

    An idle connection should receive nothing. When PostgreSQL shuts down or restarts, or a
    backend is terminated, the server sends an error and closes the socket, so the socket
    becomes readable: only then is the full check (an empty query) needed, which raises for
    a dead connection so the pool replaces it. A healthy idle connection costs one `select`
    instead of a round trip to the server on every request.
    """
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the pooled connection is closed")
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        readable = [True]
    if readable:
        ConnectionPool.check_connection(conn)
