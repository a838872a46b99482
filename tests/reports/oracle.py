"""An independent computation of the adoption indicators from the raw ledger and registry.

It shares no code with chopay.reports: it loads whole tables as ORM objects and counts
in plain Python, deriving each payment's Vietnam day from ``occurred_at`` itself (not
the ledger's ``local_day``, nor any rollup) and skipping voided rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from chopay.admin_units.models import AdminUnit
from chopay.extensions import db
from chopay.markets.models import Market
from chopay.reports.models import QualificationRule
from chopay.transactions.models import Transaction
from chopay.vendors.models import PaymentAccount, QrCode, Vendor

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CASHLESS = ("vietqr", "ewallet", "card")


def _pct(a: int, b: int) -> float | None:
    if b == 0:
        return None
    return float((Decimal(a) * 100 / Decimal(b)).quantize(Decimal("0.1"), ROUND_HALF_UP))


class Oracle:
    def __init__(self) -> None:
        s = db.session
        self.units = {u.id: u for u in s.scalars(select(AdminUnit))}
        self.markets = list(s.scalars(select(Market)))
        self.vendors = list(s.scalars(select(Vendor)))
        self.accounts = {a.id: a for a in s.scalars(select(PaymentAccount))}
        self.codes = list(s.scalars(select(QrCode)))
        self.txs = list(s.scalars(select(Transaction)))
        self.rules = list(s.scalars(select(QualificationRule)))

    # --- registry ---------------------------------------------------------------------
    def commune(self, market: Market, scheme: str) -> AdminUnit | None:
        cid = market.legacy_commune_id if scheme == "legacy" else market.new_commune_id
        return self.units.get(cid) if cid is not None else None

    def inside(self, commune: AdminUnit, area: AdminUnit | None) -> bool:
        if area is None:
            return True
        if area.level == "province":
            return commune.province_code == area.code
        if area.level == "district":
            return commune.district_code == area.code
        return commune.id == area.id

    def row_code(self, market: Market, commune: AdminUnit, level: str) -> str:
        if level == "market":
            return market.code
        if level == "commune":
            return commune.code
        if level == "district":
            return str(commune.district_code)
        return commune.province_code

    # --- per-market figures -----------------------------------------------------------
    def market(self, market: Market, start: dt.date, end: dt.date) -> dict[str, Any]:
        cutoff = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=VN)
        registered = set()
        for v in self.vendors:
            if v.market_id != market.id or v.created_at >= cutoff:
                continue
            if v.status == "left" and (v.left_at is None or v.left_at < cutoff):
                continue
            registered.add(v.id)
        with_qr = set()
        for c in self.codes:
            if c.vendor_id not in registered or c.is_dynamic or c.issued_at >= cutoff:
                continue
            status = self.accounts[c.account_id].status
            valid_now = c.revoked_at is None and status == "approved"
            valid_then = (
                c.revoked_at is not None
                and c.revoked_at >= cutoff
                and status in ("approved", "replaced")
            )
            if valid_now or valid_then:
                with_qr.add(c.vendor_id)
        active = set()
        counts: dict[str, int] = defaultdict(int)
        values: dict[str, int] = defaultdict(int)
        for t in self.txs:
            if t.market_id != market.id or t.voided_at is not None:
                continue
            day = t.occurred_at.astimezone(VN).date()
            if not start <= day <= end:
                continue
            counts[t.method] += 1
            values[t.method] += t.amount_vnd
            if t.method != "cash":
                active.add(t.vendor_id)
        return {
            "market": market,
            "stall_count": market.stall_count,
            "vendors": len(registered),
            "with_qr": len(with_qr),
            "active": len(active),
            "active_with_qr": len(active & with_qr),
            "counts": counts,
            "values": values,
        }

    def qualifies(self, m: dict[str, Any], end: dt.date) -> bool:
        market = m["market"]
        legacy, new = self.commune(market, "legacy"), self.commune(market, "2025")
        candidates = [
            r
            for r in self.rules
            if r.valid_from <= end
            and (
                (
                    r.scheme == "legacy"
                    and legacy is not None
                    and r.province_code == legacy.province_code
                )
                or (r.scheme == "2025" and new is not None and r.province_code == new.province_code)
            )
        ]
        if not candidates:
            return False
        rule = max(candidates, key=lambda r: (r.valid_from, r.id))
        ok = True
        if rule.min_adoption_pct is not None:
            if m["stall_count"] == 0:
                ok = ok and rule.min_adoption_pct == 0
            else:
                ok = ok and Fraction(m["with_qr"], m["stall_count"]) * 100 >= Fraction(
                    str(rule.min_adoption_pct)
                )
        if rule.min_vendors_with_qr is not None:
            ok = ok and m["with_qr"] >= rule.min_vendors_with_qr
        if rule.min_active_pct is not None:
            if m["with_qr"] == 0:
                ok = ok and rule.min_active_pct == 0
            else:
                ok = ok and Fraction(m["active_with_qr"], m["with_qr"]) * 100 >= Fraction(
                    str(rule.min_active_pct)
                )
        if rule.min_active_vendors is not None:
            ok = ok and m["active"] >= rule.min_active_vendors
        return ok

    # --- a whole report ---------------------------------------------------------------
    def report(
        self,
        scheme: str,
        level: str,
        area: AdminUnit | None,
        start: dt.date,
        end: dt.date,
        only_markets: set[int] | None = None,
    ) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
        """Expected rows (by unit code) and totals."""
        rows: dict[str, list[dict[str, Any]]] = {}
        if level != "market":
            for u in self.units.values():
                if u.scheme == scheme and u.level == level and self.inside_unit(u, area):
                    rows[u.code] = []
        every: list[dict[str, Any]] = []
        for market in self.markets:
            commune = self.commune(market, scheme)
            if not market.is_active or commune is None or not self.inside(commune, area):
                continue
            if only_markets is not None and market.id not in only_markets:
                continue
            m = self.market(market, start, end)
            m["qualifies"] = self.qualifies(m, end)
            rows.setdefault(self.row_code(market, commune, level), []).append(m)
            every.append(m)
        return {code: self.sum(ms) for code, ms in rows.items()}, self.sum(every)

    def inside_unit(self, u: AdminUnit, area: AdminUnit | None) -> bool:
        if area is None:
            return True
        if area.level == "province":
            return u.province_code == area.code
        if area.level == "district":
            return u.district_code == area.code
        return u.id == area.id

    def sum(self, ms: list[dict[str, Any]]) -> dict[str, Any]:
        counts: dict[str, int] = defaultdict(int)
        values: dict[str, int] = defaultdict(int)
        share_cashless = share_cash = 0
        for m in ms:
            for k, v in m["counts"].items():
                counts[k] += v
            for k, v in m["values"].items():
                values[k] += v
            if m["counts"].get("cash", 0) > 0:
                share_cash += m["values"]["cash"]
                share_cashless += sum(m["values"].get(k, 0) for k in CASHLESS)
        stalls = sum(m["stall_count"] for m in ms)
        with_qr = sum(m["with_qr"] for m in ms)
        active_with_qr = sum(m["active_with_qr"] for m in ms)
        out: dict[str, Any] = {
            "markets": len(ms),
            "qualifying_markets": sum(1 for m in ms if m["qualifies"]),
            "stall_count": stalls,
            "vendors": sum(m["vendors"] for m in ms),
            "vendors_with_qr": with_qr,
            "vendors_active": sum(m["active"] for m in ms),
            "vendors_active_with_qr": active_with_qr,
            "dormant_vendors": with_qr - active_with_qr,
            "adoption_pct": _pct(with_qr, stalls),
            "active_pct": _pct(active_with_qr, with_qr),
            "tx_count": sum(counts[k] for k in CASHLESS),
            "tx_value": sum(values[k] for k in CASHLESS),
        }
        for k in CASHLESS:
            out[f"tx_count_{k}"] = counts[k]
            out[f"tx_value_{k}"] = values[k]
        out["cash_count"] = counts["cash"]
        out["cash_value"] = values["cash"]
        out["cashless_share"] = (
            _pct(share_cashless, share_cashless + share_cash) if share_cash else None
        )
        return out
