"""The English catalog: it parses, is complete and consistent, covers every message in
the code, and the pages really switch language.

Vietnamese is the source language (the msgids); English is a translation catalog that
chopay.i18n compiles at start-up. Adding a string to the code without translating it
fails ``test_every_message_in_the_code_is_translated`` with the string's location. To
refresh the catalog::

    .venv/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location \\
        -o /tmp/messages.pot .
    .venv/bin/pybabel update -i /tmp/messages.pot -d chopay/translations -l en \\
        --no-fuzzy-matching --no-wrap --ignore-obsolete
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask.testing import FlaskClient

from chopay import ROOT
from chopay.auth.models import Role
from chopay.i18n import SOURCE_DIR
from tests.factories import UserFactory

PO_PATH = SOURCE_DIR / "en" / "LC_MESSAGES" / "messages.po"
# The same keywords as `pybabel extract -F babel.cfg -k _l -k lazy_gettext`.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

# %(name)s, %(n)d, %(p).1f ... and str.format fields {0}, {name}.
NAMED_PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?([diouxXeEfFgGcrs])")
BRACE_PLACEHOLDER = re.compile(r"(?<!\{)\{(\w*)(?:[:!][^}]*)?\}(?!\})")
# Letters Vietnamese has and English does not: an English page should show none of them
# outside names (language switch "Tiếng Việt", the programme name "Chợ 4.0").
VIETNAMESE_LETTERS = re.compile(
    "[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]",
    re.IGNORECASE,
)
MAIN_MENU = re.compile(r'<nav class="mainnav"[^>]*>(.*?)</nav>', re.DOTALL)
MENU_LINK = re.compile(r"<a [^>]*>([^<]*)</a>")
PASSWORD = "correct horse battery"


def _catalog() -> Catalog:
    with PO_PATH.open("rb") as fh:
        return read_po(fh, locale="en")


def _messages(catalog: Catalog) -> list[Any]:
    return [m for m in catalog if m.id]


def _forms(value: str | tuple[str, ...] | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _placeholders(text: str) -> Counter[tuple[str, str]]:
    found: Counter[tuple[str, str]] = Counter()
    for name, conversion in NAMED_PLACEHOLDER.findall(text):
        found[("%", f"{name}:{conversion}")] += 1
    for name in BRACE_PLACEHOLDER.findall(text):
        found[("{}", name)] += 1
    return found


# --- the catalog file ------------------------------------------------------------------


def test_catalog_parses_with_english_header() -> None:
    catalog = _catalog()
    assert str(catalog.locale) == "en"
    assert catalog.num_plurals == 2
    assert catalog.plural_expr.replace(" ", "") == "(n!=1)"
    assert len(_messages(catalog)) > 800


def test_every_message_has_a_translation_and_no_fuzzy_flag() -> None:
    catalog = _catalog()
    untranslated = [
        m.id for m in _messages(catalog) if not all(s.strip() for s in _forms(m.string))
    ]
    fuzzy = [m.id for m in _messages(catalog) if m.fuzzy]
    plural_forms_missing = [
        m.id
        for m in _messages(catalog)
        if m.pluralizable and len(_forms(m.string)) != catalog.num_plurals
    ]
    assert untranslated == [], f"untranslated: {untranslated}"
    assert fuzzy == [], f"fuzzy: {fuzzy}"
    assert plural_forms_missing == []


def test_translations_keep_every_placeholder() -> None:
    mismatched = []
    for message in _messages(_catalog()):
        # Every form (singular, plural; source and translation) has the same placeholders.
        expected = _placeholders(_forms(message.id)[0])
        for form in [*_forms(message.id), *_forms(message.string)]:
            if _placeholders(form) != expected:
                mismatched.append((message.id, form))
    assert mismatched == []


def test_placeholder_check_catches_a_dropped_or_renamed_placeholder() -> None:
    assert _placeholders("Đã ghi %(amount)s – %(method)s.") == _placeholders(
        "Recorded %(amount)s – %(method)s."
    )
    assert _placeholders("Trang %(p)d / %(n)d") != _placeholders("Page %(p)d")
    assert _placeholders("%(n)d giao dịch") != _placeholders("%(n)s transactions")
    assert _placeholders("{0} quầy") != _placeholders("{1} stalls")


def test_catalog_compiles_the_way_the_app_compiles_it(tmp_path: Any) -> None:
    from babel.messages.mofile import read_mo

    from chopay.i18n import compile_catalogs

    compile_catalogs(tmp_path)
    with (tmp_path / "en" / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        compiled = read_mo(fh)
    assert compiled.get("Đăng nhập").string == "Log in"
    assert len(_messages(compiled)) == len(_messages(_catalog()))


# --- coverage: the catalog against the source tree -------------------------------------


def _extracted() -> dict[tuple[str, str | None], list[str]]:
    """Every msgid (with context) in the code and templates, with where it is used."""
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh, "babel.cfg")
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message[0] if isinstance(message, tuple | list) else message
        if msgid:
            found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def test_extraction_finds_the_code_and_the_templates() -> None:
    places = {place.split("/")[0] for where in _extracted().values() for place in where}
    assert {"chopay", "templates"} <= places


def test_every_message_in_the_code_is_translated() -> None:
    catalog = _catalog()
    missing = [
        f"{where[0]}: {msgid!r}"
        for (msgid, context), where in sorted(_extracted().items(), key=lambda kv: kv[1][0])
        if catalog.get(msgid, context=context) is None
        or not all(s.strip() for s in _forms(catalog.get(msgid, context=context).string))
    ]
    assert missing == [], "not in the English catalog (run pybabel extract + update):\n" + (
        "\n".join(missing)
    )


# --- behaviour: the pages -------------------------------------------------------------


def _admin(db: Any) -> Any:
    return UserFactory(role=Role.ADMIN, username="i18n-admin", full_name="Test Admin")


def _menu(html: str) -> list[str]:
    nav = MAIN_MENU.search(html)
    assert nav is not None, "no main menu on the page"
    return [label.strip() for label in MENU_LINK.findall(nav.group(1))]


def _vietnamese_left(html: str) -> list[str]:
    text = html.replace("Tiếng Việt", "").replace("Chợ 4.0", "")
    return sorted(
        {text[max(m.start() - 30, 0) : m.end() + 30] for m in VIETNAMESE_LETTERS.finditer(text)}
    )


def test_login_page_in_english(client: FlaskClient) -> None:
    html = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Log in" in html
    assert "Username" in html and "Password" in html
    assert "Đăng nhập" not in html
    assert _vietnamese_left(html) == []


def test_login_page_is_vietnamese_by_default(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert "Đăng nhập" in html and "Mật khẩu" in html
    assert "Log in" not in html


def test_admin_dashboard_in_english(client: FlaskClient, db: Any, auth: Any) -> None:
    assert auth.login(_admin(db), PASSWORD).status_code == 302
    html = client.get("/dashboard?lang=en").get_data(as_text=True)
    menu = _menu(html)
    assert {"Overview", "Markets", "Vendors", "Pending approval"} <= set(menu)
    vietnamese_labels = {"Tổng quan", "Chợ", "Tiểu thương", "Chờ duyệt", "Giao dịch", "Báo cáo"}
    assert not vietnamese_labels & set(menu)
    assert [label for label in menu if VIETNAMESE_LETTERS.search(label)] == []
    assert "Hello, Test Admin" in html and "Log out" in html
    assert _vietnamese_left(html) == []


def test_admin_dashboard_stays_english_once_chosen(client: FlaskClient, db: Any, auth: Any) -> None:
    auth.login(_admin(db), PASSWORD)
    client.get("/dashboard?lang=en")
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Vendors" in _menu(html)
    client.post("/lang/vi", data={"next": "/dashboard"})
    html = client.get("/dashboard").get_data(as_text=True)
    assert "Tiểu thương" in _menu(html) and "Vendors" not in _menu(html)


def test_admin_dashboard_is_vietnamese_by_default(client: FlaskClient, db: Any, auth: Any) -> None:
    auth.login(_admin(db), PASSWORD)
    html = client.get("/dashboard").get_data(as_text=True)
    menu = _menu(html)
    assert {"Tổng quan", "Chợ", "Tiểu thương"} <= set(menu)
    assert "Markets" not in menu and "Vendors" not in menu
    assert "Đăng xuất" in html


def test_english_chosen_on_the_login_page_survives_logging_in(
    client: FlaskClient, db: Any, auth: Any
) -> None:
    admin = _admin(db)
    client.post("/lang/en", data={"next": "/login"})
    assert "Log in" in client.get("/login").get_data(as_text=True)
    auth.login(admin, PASSWORD)
    assert "Vendors" in _menu(client.get("/dashboard").get_data(as_text=True))
