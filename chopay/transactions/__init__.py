"""The payment ledger, its daily rollups, statement imports and provider webhooks."""
