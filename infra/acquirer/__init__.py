"""The local acquirer service (a separate process the stack starts, like moto for AWS)."""
