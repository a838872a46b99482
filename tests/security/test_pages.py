"""Every page reachable from the menus, for every role and anonymously: a strict
Content-Security-Policy (no inline script or style allowed), no inline <script> bodies,
``style=`` attributes or ``on…=`` handlers in the HTML (CSP would block them, so they
would be broken features), and the usual security headers."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask

from chopay.extensions import db as _db
from tests.security.world import ROLES, World, build_world, isolated, module_session


class _PageAudit(HTMLParser):
    """Collects links and what CSP would block: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.problems: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, value in attrs:
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}>")
            if value and value.strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL in <{tag} {name}>")
        if tag == "script":
            if not names.get("src"):
                self.problems.append("<script> without src")
            self._in_script = True
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "a" and names.get("href"):
            self.links.append(str(names["href"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline script body")


def check_headers(resp: Any, path: str) -> list[str]:
    problems = []
    csp = resp.headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    if directives.get("script-src") != ["'self'"]:
        problems.append(f"script-src is {directives.get('script-src')}")
    if directives.get("style-src") != ["'self'"]:
        problems.append(f"style-src is {directives.get('style-src')}")
    for name, value in (
        ("object-src", ["'none'"]),
        ("frame-ancestors", ["'none'"]),
        ("base-uri", ["'self'"]),
        ("form-action", ["'self'"]),
    ):
        if directives.get(name) != value:
            problems.append(f"{name} is {directives.get(name)}")
    if "unsafe-inline" in csp or "unsafe-eval" in csp:
        problems.append("CSP allows unsafe-inline/unsafe-eval")
    expected = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
    }
    for header, value in expected.items():
        if resp.headers.get(header) != value:
            problems.append(f"{header}: {resp.headers.get(header)!r}")
    if "Permissions-Policy" not in resp.headers:
        problems.append("no Permissions-Policy")
    return [f"{path}: {p}" for p in problems]


@pytest.fixture(scope="module")
def site(app: Flask) -> Iterator[tuple[Any, World]]:
    with module_session(app) as connection:
        world = build_world()
        _db.session.commit()
        _db.session.remove()
        yield connection, world


SKIP = re.compile(r"\.(png|svg|pdf|xlsx|csv|json)$|^/static/|^/api/|/export")
PUBLIC_PAGES = ("/login", "/verify", "/open-data")
MAX_PAGES = 160
MAX_PER_PATH = 3  # a path with many query strings (report drill-downs): a few are enough


def crawl(
    app: Flask, connection: Any, world: World, role: str | None, starts: list[str]
) -> tuple[int, list[str]]:
    """Follow same-site links from ``starts``; audit each HTML page. Returns (pages, problems)."""
    client = app.test_client()
    if role is not None:
        with client.session_transaction() as session:
            session["_user_id"] = str(world.users[role])
    queue, seen, per_path = deque(starts), set(starts), {}
    pages, problems = 0, []
    while queue and pages < MAX_PAGES:
        url = queue.popleft()
        with isolated(connection):
            resp = client.get(url)
            html = resp.get_data(as_text=True)
        if resp.status_code >= 500:
            problems.append(f"{url}: {resp.status_code}")
        if resp.mimetype != "text/html":
            continue
        pages += 1
        problems += check_headers(resp, url)
        behind_login = resp.status_code == 200 and not urlsplit(url).path.startswith(PUBLIC_PAGES)
        if (
            role is not None
            and behind_login
            and "no-store" not in resp.headers.get("Cache-Control", "")
        ):
            problems.append(f"{url}: a page behind the login may be cached")
        audit = _PageAudit()
        audit.feed(html)
        problems += [f"{url}: {p}" for p in audit.problems]
        for href in audit.links:
            target = urljoin(url, href)
            parts = urlsplit(target)
            if parts.netloc or SKIP.search(parts.path) or parts.path in ("/logout",):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            per_path[parts.path] = per_path.get(parts.path, 0) + 1
            if target not in seen and per_path[parts.path] <= MAX_PER_PATH:
                seen.add(target)
                queue.append(target)
    return pages, problems


@pytest.mark.parametrize("role", [*ROLES, None])
def test_every_reachable_page_has_a_strict_csp_and_no_inline_code(
    app: Flask, site: tuple[Any, World], role: str | None
) -> None:
    connection, world = site
    inside = world.scopes["in"]
    if role is None:
        starts = ["/login", "/verify", f"/verify/{inside.verify_code}", "/open-data"]
    else:
        starts = ["/dashboard", f"/vendors/{inside.vendor_id}", "/no-such-page"]
        if role in ("admin", "board"):
            starts.append(f"/vendors/{inside.vendor_id}/erase")
    pages, problems = crawl(app, connection, world, role, starts)
    print(f"\nCSP crawl as {role or 'anonymous'}: {pages} pages")
    assert pages >= (4 if role is None else 8)
    assert not problems, "\n".join(problems)
