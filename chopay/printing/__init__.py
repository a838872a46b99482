"""QR stands: pure renderers (qr, layout) and the services that feed them."""
