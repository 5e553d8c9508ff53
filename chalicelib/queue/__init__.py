"""The queue: every accepted payment and refund brought to one final state.

Follow one payment, in the order it happens:
  enqueue.py     — after the accept commits, its id goes on the Redis stream;
  (chalicelib/handlers/process_payments.py — the scheduled handler, drains every kind)
  drain.py       — sweep (re-add what Redis lost), claim stream entries, dead-letter
                   poison, acknowledge;
  sql.py         — every statement: claim (PENDING → PROCESSING, compare-and-set),
                   sweep, park, unpark, mark-not-enqueued, and each kind's finish;
  execute.py     — the one execute-and-finish path: connector calls, then results,
                   history and events in one transaction;
  retry.py       — what an outcome makes of a row: final, or PENDING with backoff;
  kinds.py       — the per-kind descriptions (payments, refunds) the path above runs;
  stream.py      — the Redis stream adapter; keys.py — every Redis key name;
  operations.py  — for operators: queue stats, dead letters, replay.
"""
