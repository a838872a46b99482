"""Fixtures for the onboarding tests (defined in tests/vendors/helpers.py)."""

from tests.vendors.helpers import api, world

__all__ = ["api", "world"]
