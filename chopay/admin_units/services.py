"""Loading the statistics office's units from ``vietnamadminunits`` and placing markets.

The package ships an SQLite file with both schemes and a JSON file mapping legacy
communes to 2025 communes; both are read directly (they are the package's data, not
code of ours to copy), keyed by the package's slugs.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from chopay.admin_units.models import AdminUnit, AdminUnitMapping, Scheme, UnitLevel
from chopay.errors import InvalidInputError, NotFoundError
from chopay.extensions import db

logger = logging.getLogger(__name__)


def _package_data_dir() -> Path:
    import vietnamadminunits

    return Path(vietnamadminunits.__file__).resolve().parent / "data"


@dataclass
class UnitRow:
    scheme: Scheme
    code: str
    level: UnitLevel
    name: str
    short_name: str
    unit_type: str
    slug: str
    parent_code: str | None
    province_code: str
    district_code: str | None


@dataclass
class SourceData:
    """Units of both schemes and the legacy→2025 commune pairs, from the package."""

    units: list[UnitRow] = field(default_factory=list)
    # (legacy commune code, 2025 commune code, is_default)
    mappings: list[tuple[str, str, bool]] = field(default_factory=list)


def _unit_type(full_name: str, short_name: str) -> str:
    suffix = " " + short_name
    return full_name[: -len(suffix)] if full_name.endswith(suffix) else ""


def read_source(province: str | None = None) -> SourceData:
    """Read the package's data, for one 2025/legacy province code or for the whole country.

    Asking for a province code loads that province in both schemes, every legacy
    province merged into it, and the mapping between their communes.
    """
    data_dir = _package_data_dir()
    converter = json.loads((data_dir / "converter_2025.json").read_text(encoding="utf-8"))
    con = sqlite3.connect(f"file:{data_dir / 'dataset.db'}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        new_rows = con.execute("SELECT * FROM admin_units").fetchall()
        legacy_rows = con.execute("SELECT * FROM admin_units_legacy").fetchall()
    finally:
        con.close()

    new_prov_key = {r["provinceCode"]: r["provinceKey"] for r in new_rows}
    legacy_prov_key = {r["provinceCode"]: r["provinceKey"] for r in legacy_rows}
    if province is not None and province not in new_prov_key and province not in legacy_prov_key:
        raise InvalidInputError.for_field(
            "province", _l("Không có tỉnh mã %(code)s.", code=province)
        )

    wanted_new: set[str] | None = None
    wanted_legacy: set[str] | None = None
    if province is not None:
        wanted_new = {province} if province in new_prov_key else set()
        merged_keys: set[str] = set()
        for code in wanted_new:
            merged_keys.update(converter["DICT_PROVINCE"].get(new_prov_key[code], []))
        wanted_legacy = {c for c, k in legacy_prov_key.items() if k in merged_keys}
        if province in legacy_prov_key:
            wanted_legacy.add(province)
            # the 2025 province the legacy one went into, for the mapping's other side
            for new_key, old_keys in converter["DICT_PROVINCE"].items():
                if legacy_prov_key[province] in old_keys:
                    wanted_new.update(c for c, k in new_prov_key.items() if k == new_key)

    out = SourceData()
    seen: set[tuple[Scheme, str]] = set()

    def add(row: UnitRow) -> None:
        if (row.scheme, row.code) not in seen:
            seen.add((row.scheme, row.code))
            out.units.append(row)

    legacy_code_by_key: dict[str, str] = {}
    for r in legacy_rows:
        pcode = r["provinceCode"]
        if wanted_legacy is not None and pcode not in wanted_legacy:
            continue
        add(
            UnitRow(
                Scheme.LEGACY,
                pcode,
                UnitLevel.PROVINCE,
                r["province"],
                r["provinceShort"],
                _unit_type(r["province"], r["provinceShort"]),
                r["provinceKey"],
                None,
                pcode,
                None,
            )
        )
        dcode = r["districtCode"]
        add(
            UnitRow(
                Scheme.LEGACY,
                dcode,
                UnitLevel.DISTRICT,
                r["district"],
                r["districtShort"],
                r["districtType"] or _unit_type(r["district"], r["districtShort"]),
                r["districtKey"],
                pcode,
                pcode,
                dcode,
            )
        )
        if r["wardCode"]:
            add(
                UnitRow(
                    Scheme.LEGACY,
                    r["wardCode"],
                    UnitLevel.COMMUNE,
                    r["ward"],
                    r["wardShort"],
                    r["wardType"] or _unit_type(r["ward"], r["wardShort"]),
                    r["wardKey"],
                    dcode,
                    pcode,
                    dcode,
                )
            )
            legacy_code_by_key[f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}"] = r[
                "wardCode"
            ]

    new_code_by_key: dict[tuple[str, str], str] = {}
    for r in new_rows:
        pcode = r["provinceCode"]
        if wanted_new is not None and pcode not in wanted_new:
            continue
        add(
            UnitRow(
                Scheme.NEW,
                pcode,
                UnitLevel.PROVINCE,
                r["province"],
                r["provinceShort"],
                _unit_type(r["province"], r["provinceShort"]),
                r["provinceKey"],
                None,
                pcode,
                None,
            )
        )
        add(
            UnitRow(
                Scheme.NEW,
                r["wardCode"],
                UnitLevel.COMMUNE,
                r["ward"],
                r["wardShort"],
                r["wardType"] or _unit_type(r["ward"], r["wardShort"]),
                r["wardKey"],
                pcode,
                pcode,
                None,
            )
        )
        new_code_by_key[(r["provinceKey"], r["wardKey"])] = r["wardCode"]

    pairs: dict[tuple[str, str], bool] = {}
    for new_pkey, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_wkey, legacy_keys in wards.items():
            new_code = new_code_by_key.get((new_pkey, new_wkey))
            for legacy_key in legacy_keys:
                legacy_code = legacy_code_by_key.get(legacy_key)
                if new_code and legacy_code:
                    pairs[(legacy_code, new_code)] = True
    for new_pkey, divided in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for legacy_key, parts in divided.items():
            legacy_code = legacy_code_by_key.get(legacy_key)
            for part in parts:
                new_code = new_code_by_key.get((new_pkey, part["newWardKey"]))
                if new_code and legacy_code:
                    pairs[(legacy_code, new_code)] = bool(part.get("isDefaultNewWard"))
    out.mappings = [(lc, nc, d) for (lc, nc), d in sorted(pairs.items())]
    return out


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    mappings_created: int
    mappings_updated: int
    total_units: int


def load_units(province: str | None = None) -> LoadResult:
    """Insert or update units and mappings; running it twice changes nothing."""
    source = read_source(province)
    existing = {(u.scheme, u.code): u for u in db.session.scalars(select(AdminUnit))}
    created = updated = 0
    # Parents come before children in ``source.units`` (province, district, commune).
    by_key: dict[tuple[str, str], AdminUnit] = dict(existing)
    order = {UnitLevel.PROVINCE: 0, UnitLevel.DISTRICT: 1, UnitLevel.COMMUNE: 2}
    for row in sorted(source.units, key=lambda r: order[r.level]):
        parent = None
        if row.parent_code is not None:
            parent = by_key[(row.scheme, row.parent_code)]
        values = {
            "level": row.level,
            "name": row.name,
            "short_name": row.short_name,
            "unit_type": row.unit_type,
            "slug": row.slug,
            "province_code": row.province_code,
            "district_code": row.district_code,
        }
        unit = by_key.get((row.scheme, row.code))
        if unit is None:
            unit = AdminUnit(scheme=row.scheme, code=row.code, parent=parent, **values)
            db.session.add(unit)
            by_key[(row.scheme, row.code)] = unit
            created += 1
        else:
            changed = False
            for key, value in values.items():
                if getattr(unit, key) != value:
                    setattr(unit, key, value)
                    changed = True
            if unit.parent is not parent:
                unit.parent = parent
                changed = True
            updated += changed
    db.session.flush()

    legacy_ids = {code: u.id for (scheme, code), u in by_key.items() if scheme == Scheme.LEGACY}
    new_ids = {code: u.id for (scheme, code), u in by_key.items() if scheme == Scheme.NEW}
    existing_maps = {
        (m.legacy_unit_id, m.new_unit_id): m
        for m in db.session.scalars(
            select(AdminUnitMapping).where(
                AdminUnitMapping.legacy_unit_id.in_(list(legacy_ids.values()))
            )
        )
    }
    m_created = m_updated = 0
    for legacy_code, new_code, is_default in source.mappings:
        key = (legacy_ids[legacy_code], new_ids[new_code])
        mapping = existing_maps.get(key)
        if mapping is None:
            db.session.add(
                AdminUnitMapping(legacy_unit_id=key[0], new_unit_id=key[1], is_default=is_default)
            )
            m_created += 1
        elif mapping.is_default != is_default:
            mapping.is_default = is_default
            m_updated += 1
    db.session.flush()
    logger.info(
        "admin units loaded (province=%s): %d created, %d updated, %d mappings created",
        province,
        created,
        updated,
        m_created,
    )
    return LoadResult(created, updated, m_created, m_updated, len(source.units))


def find_unit(scheme: str, code: str) -> AdminUnit | None:
    """The unit with this scheme and code, or None."""
    return db.session.scalar(
        select(AdminUnit).where(AdminUnit.scheme == scheme, AdminUnit.code == code)
    )


def get_unit(scheme: str, code: str) -> AdminUnit:
    """The unit with this scheme and code; NotFoundError if none."""
    if scheme not in (Scheme.LEGACY, Scheme.NEW):
        raise InvalidInputError.for_field("scheme", _l("Hệ đơn vị phải là legacy hoặc 2025."))
    unit = find_unit(scheme, code)
    if unit is None:
        raise NotFoundError(_l("Không có đơn vị hành chính %(s)s:%(c)s.", s=scheme, c=code))
    return unit


def list_units(
    *,
    scheme: str | None = None,
    level: str | None = None,
    parent: AdminUnit | None = None,
    query: str | None = None,
    limit: int = 100,
) -> list[AdminUnit]:
    """Units filtered by scheme, level, parent and a name fragment (accents optional)."""
    stmt = select(AdminUnit)
    if scheme:
        stmt = stmt.where(AdminUnit.scheme == scheme)
    if level:
        stmt = stmt.where(AdminUnit.level == level)
    if parent is not None:
        stmt = stmt.where(AdminUnit.parent_id == parent.id)
    if query:
        from chopay.text import slugify

        stmt = stmt.where(AdminUnit.slug.contains(slugify(query), autoescape=True))
    return list(db.session.scalars(stmt.order_by(AdminUnit.scheme, AdminUnit.code).limit(limit)))


@dataclass(frozen=True)
class Placement:
    """Where a market lies in both schemes, and whether a person must confirm it."""

    legacy_commune: AdminUnit | None
    new_commune: AdminUnit | None
    needs_review: bool
    candidates: tuple[AdminUnit, ...] = ()


def place_commune(scheme: str, code: str) -> Placement:
    """Place a market by one commune code; derive the other scheme's commune from the mapping."""
    unit = find_unit(scheme, code)
    if unit is None or unit.level != UnitLevel.COMMUNE:
        raise InvalidInputError.for_field(
            "commune_code",
            _l("Không có xã/phường mã %(code)s trong hệ %(scheme)s.", code=code, scheme=scheme),
        )
    if unit.scheme == Scheme.LEGACY:
        maps = list(
            db.session.scalars(
                select(AdminUnitMapping).where(AdminUnitMapping.legacy_unit_id == unit.id)
            )
        )
        targets = [m.new_unit for m in maps]
        if len(targets) == 1:
            return Placement(unit, targets[0], False)
        default = next((m.new_unit for m in maps if m.is_default), targets[0] if targets else None)
        return Placement(unit, default, True, tuple(targets))
    maps = list(
        db.session.scalars(select(AdminUnitMapping).where(AdminUnitMapping.new_unit_id == unit.id))
    )
    sources = [m.legacy_unit for m in maps]
    if len(sources) == 1 and _is_whole(sources[0]):
        return Placement(sources[0], unit, False)
    # Several old communes merged into this one (or a split one): which was it?
    whole = [s for s in sources if _is_whole(s)]
    guess = (whole or sources or [None])[0]
    return Placement(guess, unit, True, tuple(sources))


def _is_whole(legacy: AdminUnit) -> bool:
    count = len(
        db.session.scalars(
            select(AdminUnitMapping.id).where(AdminUnitMapping.legacy_unit_id == legacy.id)
        ).all()
    )
    return count == 1


def descendants_at_level(unit: AdminUnit, level: str) -> list[AdminUnit]:
    """Units of ``level`` inside ``unit`` (the unit itself if it is at that level)."""
    stmt = select(AdminUnit).where(AdminUnit.scheme == unit.scheme, AdminUnit.level == level)
    if unit.level == UnitLevel.PROVINCE:
        stmt = stmt.where(AdminUnit.province_code == unit.code)
    elif unit.level == UnitLevel.DISTRICT:
        stmt = stmt.where(AdminUnit.district_code == unit.code)
    else:
        stmt = stmt.where(AdminUnit.id == unit.id)
    return list(db.session.scalars(stmt.order_by(AdminUnit.code)))
