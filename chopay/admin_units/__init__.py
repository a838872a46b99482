"""Administrative units (statistics office codes) in the legacy and 2025 schemes."""
