"""Imports every model so the metadata (and Alembic) sees all tables."""

from chopay.admin_units.models import AdminUnit, AdminUnitMapping
from chopay.audit.models import AuditEvent
from chopay.auth.models import ApiToken, Role, User, helper_markets
from chopay.markets.models import Market
from chopay.reports.models import MarketDailyRollup, QualificationRule, VendorActivityMonth
from chopay.transactions.models import (
    DailyRollup,
    InboundPayment,
    Transaction,
    WebhookSource,
)
from chopay.vendors.models import PaymentAccount, QrCode, Vendor

__all__ = [
    "AdminUnit",
    "AdminUnitMapping",
    "ApiToken",
    "AuditEvent",
    "DailyRollup",
    "InboundPayment",
    "Market",
    "MarketDailyRollup",
    "PaymentAccount",
    "QrCode",
    "QualificationRule",
    "Role",
    "Transaction",
    "User",
    "Vendor",
    "VendorActivityMonth",
    "WebhookSource",
    "helper_markets",
]
