"""CSV export of the ledger for boards (streamed; guarded against spreadsheet formulas)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from flask import Response, stream_with_context

from chopay.exports import safe_cell
from chopay.extensions import db
from chopay.formatting import to_local

CSV_COLUMNS = (
    "id",
    "occurred_at",
    "local_day",
    "vendor_id",
    "vendor_name",
    "stall",
    "amount",
    "method",
    "source",
    "external_ref",
    "voided",
    "void_reason",
    "note",
)


def csv_rows(stmt: Any) -> Iterator[str]:
    """The CSV text of a transaction query, a chunk at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    result = db.session.execute(stmt.execution_options(yield_per=1000))
    for count, (tx, name, stall) in enumerate(result, start=1):
        writer.writerow(
            [
                tx.id,
                to_local(tx.occurred_at).isoformat(timespec="seconds"),
                tx.local_day.isoformat(),
                tx.vendor_id,
                safe_cell(name),
                safe_cell(stall),
                tx.amount_vnd,
                tx.method,
                tx.source,
                safe_cell(tx.external_ref),
                "yes" if tx.is_voided else "no",
                safe_cell(tx.void_reason or ""),
                safe_cell(tx.note or ""),
            ]
        )
        if count % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(stmt: Any) -> Response:
    """Stream the matches as a UTF-8 CSV (with BOM, so Excel reads Vietnamese right)."""
    rows = csv_rows(stmt)

    def generate() -> Iterator[str]:
        yield "\ufeff"
        yield from rows

    resp = Response(stream_with_context(generate()), mimetype="text/csv")
    resp.headers["Content-Disposition"] = 'attachment; filename="transactions.csv"'
    return resp
