"""The production stack on AWS: what `make package` adds to Chalice's output.

`templates/` holds the stack as static files (the SAM fragment Chalice merges, the
Terraform blocks and overrides, what every function gets, the dashboard, the gateway
responses); `functions.py` holds what each function may do, the one part generated,
and `cloudformation.py` / `terraform.py` put the two together for each format.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates"
SAM_FRAGMENT = TEMPLATES / "sam.json"  # chalice package --merge-template


def template(name: str) -> Any:
    """A static template of `templates/` (a fresh copy: callers may change it)."""
    return json.loads((TEMPLATES / name).read_text())
