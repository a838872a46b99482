"""The least a Flask endpoint can do for one payment: the yardstick for load_ledger.py.

One route takes any POST: parse the JSON body, ``INSERT … ON CONFLICT DO NOTHING
RETURNING id`` into a one-index table through a psycopg connection kept per thread,
commit, answer ``{"status": "created"|"duplicate"}``. No authentication, no
validation, no rights, no rollups. Served by the same gunicorn settings and driven by
the same client as chopay, it shows what this machine allows before chopay's own work:
``load_ledger.py --reference`` prints both side by side.

Run by load_ledger.py (it sets REFERENCE_DATABASE, a libpq connection string).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import psycopg
from flask import Flask, jsonify, request

app = Flask(__name__)
_local = threading.local()


def _connection() -> psycopg.Connection[Any]:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = psycopg.connect(os.environ["REFERENCE_DATABASE"])
    return conn


@app.post("/<path:anything>")
def record(anything: str) -> Any:
    body = request.get_json()
    ref = f"{anything}:{body.get('external_ref') or body.get('id')}"
    amount = body.get("amount") or body.get("transferAmount") or 0
    conn = _connection()
    row = conn.execute(
        "INSERT INTO reference_payments (ref, amount) VALUES (%s, %s) "
        "ON CONFLICT (ref) DO NOTHING RETURNING id",
        (ref, amount),
    ).fetchone()
    conn.commit()
    if row is None:
        return jsonify(status="duplicate"), 200
    return jsonify(status="created", id=row[0]), 201
