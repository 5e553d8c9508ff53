"""A granian worker imports every module of `chalicelib` before its threads serve, so
that two first requests never import one cycle from its two ends (the soak's 500:
`_DeadlockError` between `chalicelib.connectors` and `connectors.base`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support import ROOT

PROBE = """
import json, sys
from workers.serve import wsgi_app
wsgi_app()
print(json.dumps(sorted(m for m in sys.modules if m.startswith("chalicelib"))))
"""


def test_the_worker_factory_imports_the_lazy_request_path_before_serving() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**os.environ, "STAGE": "test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    lazy = {
        "chalicelib.connectors",
        "chalicelib.connectors.base",
        "chalicelib.queue.kinds",
        "chalicelib.services.payments",
        "chalicelib.services.checkout",
        "chalicelib.api.auth",
    }
    assert lazy <= loaded, sorted(lazy - loaded)
