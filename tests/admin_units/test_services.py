"""Loading both schemes from vietnamadminunits and placing markets."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import vietnamadminunits
from sqlalchemy import func, select

from chopay.admin_units import services
from chopay.admin_units.models import AdminUnit, AdminUnitMapping, Scheme, UnitLevel
from chopay.errors import InvalidInputError

DATASET = Path(vietnamadminunits.__file__).parent / "data" / "dataset.db"


def _package_rows(sql: str, *args: Any) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(DATASET)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def test_thai_nguyen_legacy_has_exactly_the_nine_district_level_units(db: Any) -> None:
    districts = db.session.scalars(
        select(AdminUnit.name).where(
            AdminUnit.scheme == Scheme.LEGACY,
            AdminUnit.level == UnitLevel.DISTRICT,
            AdminUnit.province_code == "19",
        )
    ).all()
    assert sorted(districts) == sorted(
        [
            "Thành phố Thái Nguyên",
            "Thành phố Sông Công",
            "Thành phố Phổ Yên",
            "Huyện Định Hóa",
            "Huyện Phú Lương",
            "Huyện Đồng Hỷ",
            "Huyện Võ Nhai",
            "Huyện Đại Từ",
            "Huyện Phú Bình",
        ]
    )


def test_commune_counts_match_the_package_in_both_schemes(db: Any) -> None:
    legacy_communes = db.session.scalar(
        select(func.count()).where(
            AdminUnit.scheme == Scheme.LEGACY,
            AdminUnit.level == UnitLevel.COMMUNE,
            AdminUnit.province_code == "19",
        )
    )
    new_communes = db.session.scalar(
        select(func.count()).where(
            AdminUnit.scheme == Scheme.NEW,
            AdminUnit.level == UnitLevel.COMMUNE,
            AdminUnit.province_code == "19",
        )
    )
    expected_legacy = _package_rows(
        "SELECT COUNT(DISTINCT wardCode) FROM admin_units_legacy WHERE provinceCode='19'"
    )[0][0]
    expected_new = _package_rows(
        "SELECT COUNT(DISTINCT wardCode) FROM admin_units WHERE provinceCode='19'"
    )[0][0]
    assert legacy_communes == expected_legacy > 150
    assert new_communes == expected_new > 50


def test_bac_kan_is_loaded_with_thai_nguyen_because_it_merged_into_it(db: Any) -> None:
    bac_kan = services.find_unit("legacy", "06")
    assert bac_kan is not None
    assert bac_kan.level == UnitLevel.PROVINCE


def test_tree_links_commune_to_district_to_province(db: Any) -> None:
    hung_son = db.session.scalar(
        select(AdminUnit).where(
            AdminUnit.scheme == Scheme.LEGACY,
            AdminUnit.district_code == "171",
            AdminUnit.short_name == "Hùng Sơn",
        )
    )
    assert hung_son is not None
    assert hung_son.parent is not None and hung_son.parent.code == "171"
    assert hung_son.parent.parent is not None and hung_son.parent.parent.code == "19"


def test_loading_twice_changes_nothing(db: Any) -> None:
    before_units = db.session.scalar(select(func.count()).select_from(AdminUnit))
    before_maps = db.session.scalar(select(func.count()).select_from(AdminUnitMapping))
    result = services.load_units("19")
    db.session.commit()
    assert (result.created, result.updated, result.mappings_created) == (0, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(AdminUnit)) == before_units
    assert db.session.scalar(select(func.count()).select_from(AdminUnitMapping)) == before_maps


def test_unknown_province_is_refused_and_writes_nothing(db: Any) -> None:
    before = db.session.scalar(select(func.count()).select_from(AdminUnit))
    with pytest.raises(InvalidInputError) as err:
        services.load_units("99")
    assert "province" in err.value.details
    assert db.session.scalar(select(func.count()).select_from(AdminUnit)) == before


def _split_legacy_commune(db: Any) -> AdminUnit:
    counts = (
        select(AdminUnitMapping.legacy_unit_id)
        .group_by(AdminUnitMapping.legacy_unit_id)
        .having(func.count() > 1)
    )
    unit = db.session.scalars(
        select(AdminUnit).where(AdminUnit.id.in_(counts), AdminUnit.province_code == "19")
    ).first()
    assert unit is not None, "Thái Nguyên has communes split between 2025 communes"
    return unit


def test_placing_by_whole_legacy_commune_derives_the_2025_commune(db: Any) -> None:
    whole = (
        select(AdminUnitMapping.legacy_unit_id)
        .group_by(AdminUnitMapping.legacy_unit_id)
        .having(func.count() == 1)
    )
    legacy = db.session.scalars(
        select(AdminUnit).where(AdminUnit.id.in_(whole), AdminUnit.district_code == "171")
    ).first()
    placement = services.place_commune("legacy", legacy.code)
    mapping = db.session.scalar(
        select(AdminUnitMapping).where(AdminUnitMapping.legacy_unit_id == legacy.id)
    )
    assert placement.legacy_commune is legacy
    assert placement.new_commune is not None
    assert placement.new_commune.id == mapping.new_unit_id
    assert placement.needs_review is False


def test_placing_in_a_split_legacy_commune_is_flagged_for_review(db: Any) -> None:
    legacy = _split_legacy_commune(db)
    placement = services.place_commune("legacy", legacy.code)
    assert placement.needs_review is True
    assert len(placement.candidates) > 1
    assert placement.new_commune in placement.candidates


def test_placing_by_2025_commune_formed_from_several_is_flagged(db: Any) -> None:
    merged = (
        select(AdminUnitMapping.new_unit_id)
        .group_by(AdminUnitMapping.new_unit_id)
        .having(func.count() > 1)
    )
    new = db.session.scalars(
        select(AdminUnit).where(AdminUnit.id.in_(merged), AdminUnit.province_code == "19")
    ).first()
    placement = services.place_commune("2025", new.code)
    assert placement.new_commune is new
    assert placement.needs_review is True
    assert placement.legacy_commune in placement.candidates


@pytest.mark.parametrize(("scheme", "code"), [("legacy", "99999"), ("2025", "171"), ("x", "1")])
def test_placing_by_unknown_or_non_commune_code_is_refused(db: Any, scheme: str, code: str) -> None:
    with pytest.raises(InvalidInputError) as err:
        services.place_commune(scheme, code)
    assert "commune_code" in err.value.details
