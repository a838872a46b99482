"""Seeding shared by the ledger benchmarks: one market's vendors, each with an approved
primary bank account (a maker and a checker, as the four-eyes rule wants)."""

from __future__ import annotations

from typing import Any


def add_vendors(
    db: Any,
    market_id: int,
    count: int,
    *,
    maker_id: int,
    checker_id: int,
    name: str,
    stall: str,
    phone: str,
    reference: str,
    account: str,
    holder: str,
) -> list[tuple[int, str, str]]:
    """``count`` active vendors of the market, flushed; returns (id, reference, account
    number) of each. ``stall``, ``phone``, ``reference`` and ``account`` are formats with
    the vendor's index ``i`` (e.g. ``"09{i:08d}"``); ``name`` too."""
    from chopay.vendors.models import PaymentAccount, Vendor

    vendors = [
        Vendor(
            market_id=market_id,
            full_name=name.format(i=i),
            stall=stall.format(i=i),
            phone=phone.format(i=i),
            status="active",
            reference=reference.format(i=i),
        )
        for i in range(count)
    ]
    db.session.add_all(vendors)
    db.session.flush()
    made = []
    for i, vendor in enumerate(vendors):
        number = account.format(i=i)
        db.session.add(
            PaymentAccount(
                vendor_id=vendor.id,
                bank_bin="970436",
                account_number=number,
                account_name=holder,
                status="approved",
                is_primary=True,
                created_by_id=maker_id,
                decided_by_id=checker_id,
            )
        )
        made.append((vendor.id, vendor.reference, number))
    db.session.flush()
    return made
