"""``/api/v1/admin-units``."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from flask_smorest import Blueprint

from chopay.admin_units import services
from chopay.admin_units.schemas import (
    AdminUnitDetailSchema,
    AdminUnitLoadResultSchema,
    AdminUnitLoadSchema,
    AdminUnitQuerySchema,
    AdminUnitSchema,
)
from chopay.auth.policy import Action, authorize
from chopay.extensions import db

blp = Blueprint("admin_units_api", __name__, description="Administrative units, both schemes")


@blp.route("/admin-units", methods=["GET"])
@blp.arguments(AdminUnitQuerySchema, location="query")
@blp.response(200, AdminUnitSchema(many=True))
def list_admin_units(args: dict[str, Any]) -> Any:
    """List or search units (public reference data, any logged-in user)."""
    parent = None
    if args.get("parent"):
        parent = services.get_unit(args.get("scheme") or "legacy", args["parent"])
    return services.list_units(
        scheme=args.get("scheme"),
        level=args.get("level"),
        parent=parent,
        query=args.get("q"),
        limit=args["limit"],
    )


@blp.route("/admin-units", methods=["POST"])
@blp.arguments(AdminUnitLoadSchema)
@blp.response(200, AdminUnitLoadResultSchema)
def load_admin_units(args: dict[str, Any]) -> Any:
    """Load (or refresh) units from the statistics office list; admins only."""
    authorize(current_user, Action.MANAGE_USERS)
    result = services.load_units(args.get("province"))
    db.session.commit()
    return result


@blp.route("/admin-units/<scheme>/<code>")
@blp.response(200, AdminUnitDetailSchema)
def get_admin_unit(scheme: str, code: str) -> Any:
    """One unit with its children."""
    return services.get_unit(scheme, code)
