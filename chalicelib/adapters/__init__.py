"""Adapters for outside systems that are not acquirers (S3, ...)."""
