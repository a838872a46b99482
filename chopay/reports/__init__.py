"""Adoption indicators, Chợ 4.0 qualification, exports and open data."""
