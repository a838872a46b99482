"""``chopay backup PATH``: a consistent snapshot of the database while the app writes.

SQLite uses the online backup API in one step: the whole file is copied inside one read
transaction, so the copy is one consistent state, and in WAL mode the app keeps writing
meanwhile. (Copying a few pages per step would restart whenever another connection
writes: under steady writes it never finishes.) PostgreSQL uses
``pg_dump`` in custom format (one consistent MVCC snapshot); restore it with
``pg_restore -d NEWDB PATH``.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from sqlalchemy.engine import make_url

from chopay.cli import chopay_cli
from chopay.extensions import db


def backup_sqlite(database: str, target: Path) -> None:
    """Copy a live SQLite database to ``target`` with the online backup API (one step)."""
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    dest = sqlite3.connect(target)
    try:
        with dest:
            source.backup(dest)
    finally:
        dest.close()
        source.close()


def backup_postgres(url: str, target: Path) -> None:
    """Dump a PostgreSQL database to ``target`` with pg_dump (custom format)."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise click.ClickException("pg_dump is not installed (apt-get install postgresql-client).")
    parsed = make_url(url).set(drivername="postgresql")
    plain_url = parsed.render_as_string(hide_password=False)
    result = subprocess.run(  # noqa: S603 - fixed program, URL from our own configuration
        [pg_dump, "--format=custom", "--no-owner", f"--file={target}", plain_url],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise click.ClickException(f"pg_dump failed: {result.stderr.strip()}")


@chopay_cli.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Write a consistent snapshot of the database to PATH."""
    url = db.engine.url
    if path.exists():
        raise click.ClickException(f"{path} already exists; choose a new file.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise click.ClickException("An in-memory database cannot be backed up.")
        backup_sqlite(url.database, path)
    elif url.get_backend_name() == "postgresql":
        backup_postgres(url.render_as_string(hide_password=False), path)
    else:
        raise click.ClickException(f"No backup method for {url.get_backend_name()}.")
    click.echo(f"Backup written to {path} ({path.stat().st_size} bytes).")
