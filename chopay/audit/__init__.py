"""Audit trail: who did what to which record, with old and new values."""
