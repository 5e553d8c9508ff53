"""Load a Chalice stage's configuration the way `chalice local` does, for local processes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def load_stage(stage: str | None = None) -> tuple[Any, Any, Any]:
    """(factory, config, app) for the stage; stage variables fill gaps in os.environ."""
    from chalice.cli.factory import CLIFactory

    stage = stage or os.environ.get("STAGE", "local")
    factory = CLIFactory(project_dir=str(ROOT), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    for name, value in (config.environment_variables or {}).items():
        os.environ.setdefault(name, str(value))
    app = factory.load_chalice_app(environment_variables=os.environ)
    return factory, config, app
