"""What an execution environment's file system holds: the task root and the runtime.

`unpack_read_only` lays the deployment zip out as Lambda's /var/task (read-only, with
the bytecode the package compiled); `runtime_dir` is the python3.12 runtime's own
modules, as /var/runtime holds them: `awslambdaric` with its native `runtime_client`,
boto3 and its dependencies, `snapshot_restore_py`, and the bootstrap that starts the
runtime client. They are symlinked from this venv, and compiled to bytecode there once
(`compileall`, as pip does on install): the runtime's modules ship compiled, and a venv
installed by uv, or used with PYTHONDONTWRITEBYTECODE, has none, so every environment
would otherwise compile them again (boto3 and awslambdaric: 0.3-0.8 s here), a cost
Lambda does not have.
"""

from __future__ import annotations

import compileall
import importlib.util
import zipfile
from pathlib import Path

#: What the python3.12 Lambda runtime has on its path besides the function's code.
RUNTIME_MODULES = (
    "awslambdaric",
    "runtime_client",
    "simplejson",
    "snapshot_restore_py",
    "boto3",
    "botocore",
    "s3transfer",
    "jmespath",
    "dateutil",
    "urllib3",
    "six",
)
#: The runtime's bootstrap: the task root first on the path, then the runtime's modules.
BOOTSTRAP = """\
import os, sys
sys.path[:0] = [os.environ["LAMBDA_TASK_ROOT"], os.environ["LAMBDA_RUNTIME_DIR"]]
from awslambdaric.__main__ import main
main([sys.argv[0], os.environ["_HANDLER"]])
"""


def unpack_read_only(zip_path: Path, task: Path) -> Path:
    """The zip unpacked into `task`, read-only, as Lambda's /var/task."""
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(task)
    for path in sorted(task.rglob("*"), reverse=True):
        path.chmod(0o555 if path.is_dir() else 0o444)
    task.chmod(0o555)
    return task


def runtime_dir(dest: Path) -> Path:
    """The runtime's modules (symlinked from this venv, compiled) and its bootstrap."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_MODULES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, f"{name} is not installed"
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        if source.is_dir():
            compileall.compile_dir(source, quiet=2)
        elif source.suffix == ".py":
            compileall.compile_file(source, quiet=2)
        link = dest / source.name
        if not link.exists():
            link.symlink_to(source)
    (dest / "bootstrap.py").write_text(BOOTSTRAP)
    return dest
