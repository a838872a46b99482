"""Translation catalogs: Vietnamese is the source language, English is a catalog.

The ``.po`` files are compiled to ``.mo`` on start-up (milliseconds) into the instance
folder, so no binary is kept in the repository and no build step can be forgotten.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask

SOURCE_DIR = Path(__file__).resolve().parent / "translations"


def compile_catalogs(target: Path) -> Path:
    """Compile every ``<lang>/LC_MESSAGES/messages.po`` under SOURCE_DIR into ``target``."""
    for po_path in SOURCE_DIR.glob("*/LC_MESSAGES/messages.po"):
        lang = po_path.parent.parent.name
        mo_path = target / lang / "LC_MESSAGES" / "messages.mo"
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        tmp = mo_path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog)
        tmp.replace(mo_path)
    return target


def compiled_translations_dir(app: Flask) -> Path:
    """Where the compiled catalogs for this app live (instance folder, else a temp dir)."""
    try:
        return compile_catalogs(Path(app.instance_path) / "translations")
    except OSError:
        return compile_catalogs(Path(tempfile.gettempdir()) / "chopay-translations")
