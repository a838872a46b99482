"""Fuzz the JSON API with schemathesis: every operation in ``/api/v1/openapi.json``.

Each operation gets generated requests (valid ones, invalid ones, and valid ones aimed at
real records of a small seeded market), sent through the WSGI app with the bearer token
of an admin, then of the market's board; every answer must be no 5xx, a documented status
code, the documented content type, and a body matching the documented schema (errors
included). Each test runs in the rolled-back test transaction, on SQLite or PostgreSQL.

Bounded for CI: ``CHOPAY_FUZZ_EXAMPLES`` examples per operation for the admin (default 25;
a third as many for the board), no deadline, no example database, derandomized (the same
cases every run) unless ``CHOPAY_FUZZ_RANDOM=1`` asks for new ones, as an exploratory run
should. The number of cases run is printed at the end of the module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chopay import create_app
from chopay.auth.services import create_token
from chopay.transactions.models import InboundPayment
from chopay.transactions.services import create_webhook_source
from tests.factories import (
    MarketFactory,
    PaymentAccountFactory,
    TransactionFactory,
    UserFactory,
    VendorFactory,
)

MAX_EXAMPLES = int(os.environ.get("CHOPAY_FUZZ_EXAMPLES", "25"))
RANDOM = os.environ.get("CHOPAY_FUZZ_RANDOM") == "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Operations whose every valid call is heavy get fewer cases (loading a province's admin
# units takes a second or two).
FEWER = {"POST /api/v1/admin-units": 5}
CASES: dict[str, int] = {}  # operation -> cases run
SUCCEEDED: set[str] = set()  # operations that answered 2xx at least once


def _operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation in the document (built without a database)."""
    doc = create_app({}).test_client().get("/api/v1/openapi.json").get_json()
    return [
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


OPERATIONS = _operations()


@pytest.fixture(scope="module")
def api_schema(app: Flask) -> Any:
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture(scope="module", autouse=True)
def _report_cases(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None and CASES:
        with capture.global_and_fixture_disabled():
            reporter.write_line(
                f"\nschemathesis: {sum(CASES.values())} cases over {len(CASES)} operations "
                f"({len(SUCCEEDED)} of them answered 2xx at least once)"
            )


def _known_ids(db: Any, role: str = "admin") -> dict[str, Any]:
    """A small market with one of everything, and a bearer token of ``role`` (an admin, or
    the market's board); path parameter name -> a real value. Committed into the test's
    outer transaction (rolled back afterwards), so a request whose error handler rolls
    back does not take the records with it."""
    admin = UserFactory()
    checker = UserFactory()
    market = MarketFactory()
    user = admin if role == "admin" else UserFactory.board(market)
    _, token = create_token(user)
    spare, _ = create_token(user, name="spare")  # revoking it leaves the test its token
    vendor = VendorFactory(market=market)
    PaymentAccountFactory(
        vendor=vendor,
        status="approved",
        is_primary=True,
        created_by_id=admin.id,
        decided_by_id=checker.id,
    )
    pending = PaymentAccountFactory(vendor=vendor, created_by_id=checker.id)
    tx = TransactionFactory(vendor_obj=vendor)
    inbound = InboundPayment(
        source="import",
        external_ref="fuzz-held-1",
        amount_vnd=20_000,
        occurred_at=tx.occurred_at,
        account_number="0000111122",
        content="chua ro",
        market_id=market.id,
    )
    db.session.add(inbound)
    create_webhook_source("sepay")
    db.session.commit()
    return {
        "headers": {"Authorization": f"Bearer {token}"},
        "path": {
            "token_id": spare.id,
            "market_id": market.id,
            "vendor_id": vendor.id,
            "account_id": pending.id,
            "transaction_id": tx.id,
            "inbound_id": inbound.id,
            "scheme": "legacy",
            "code": "19",
            "source": "sepay",
        },
    }


@pytest.mark.parametrize("role", ["admin", "board"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_answers_as_documented(
    method: str, path: str, role: str, api_schema: Any, db: Any
) -> None:
    known = _known_ids(db, role)
    headers = known["headers"]
    operation = api_schema[path][method]
    params = {p.name for p in operation.path_parameters}
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    if params:
        fixed = {name: known["path"][name] for name in params if name in known["path"]}
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))

    examples = MAX_EXAMPLES if role == "admin" else max(5, MAX_EXAMPLES // 3)  # board: 403s

    @settings(
        max_examples=min(examples, FEWER.get(operation.label, examples)),
        deadline=None,
        database=None,
        derandomize=not RANDOM,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        CASES[operation.label] = CASES.get(operation.label, 0) + 1
        response = case.call(headers=headers)
        if response.status_code < 300:
            SUCCEEDED.add(operation.label)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()


def test_documented_shapes_of_repeats_batches_and_csv(api_schema: Any, db: Any) -> None:
    """Answers the generator rarely reaches, checked against the document all the same:
    a repeated payment (200 duplicate), a batch (200 results), the CSV list (text/csv)."""
    known = _known_ids(db)
    headers = known["headers"]
    post = api_schema["/api/v1/transactions"]["POST"]
    vendor_id = known["path"]["vendor_id"]
    payment = {
        "vendor_id": vendor_id,
        "amount": 15_000,
        "occurred_at": "2026-11-01T09:00:00+07:00",
        "method": "vietqr",
        "external_ref": "doc-1",
    }
    for body, status in ((payment, 201), (payment, 200), ([payment, {"amount": 0}], 200)):
        case = post.Case(body=body, media_type="application/json")
        response = case.call(headers=headers)
        assert response.status_code == status
        case.validate_response(response, checks=CHECKS, headers=headers)
    listing = api_schema["/api/v1/transactions"]["GET"]
    for query in ({"format": "csv"}, {"format": "json", "vendor": vendor_id}):
        case = listing.Case(query=query)
        response = case.call(headers=headers)
        assert response.status_code == 200
        case.validate_response(response, checks=CHECKS, headers=headers)
