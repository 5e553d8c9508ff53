"""The chaos soak (issue 22, item 6): `make soak`, see `infra/soak/__main__.py`."""
