"""Scheduled handlers outside the queue: they open the units of work their services receive.

The queue's own handler (`process_payments`) lives in `chalicelib/queue/handler.py`.
"""
