"""Hypothesis building blocks shared by the VietQR property and cross-check tests."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import settings
from hypothesis import strategies as st

SETTINGS = settings(database=None, deadline=None, max_examples=400)

DIGITS = "0123456789"
ALNUM = DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


@dataclass(frozen=True)
class Inputs:
    bank_bin: str
    account_number: str
    service: str
    amount: int | None
    purpose: str | None
    bill_number: str | None
    merchant_name: str | None
    merchant_city: str | None
