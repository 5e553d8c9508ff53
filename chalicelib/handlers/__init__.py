"""Every scheduled handler's body, in one place: `process_payments` (the queue),
`deliver_webhooks`, `prune_idempotency_keys` and `reconcile_settlements`. Each opens the
units of work its services receive; `app.py` only declares their schedules.
"""
