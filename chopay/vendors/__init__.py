"""Vendors (tiểu thương), their payment accounts and issued QR codes."""
