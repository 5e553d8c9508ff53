"""The Lambda zip `chalice package` built: what it must hold, and its bytecode.

`check_zip` fails unless the zip holds the app, `chalicelib/` and exactly the runtime
dependencies: it fails when the zip lacks any distribution of requirements.txt or its
dependencies, holds boto3/botocore or a dev dependency, holds a native wheel for another
platform than manylinux on the Lambda architecture, or exceeds MAX_ZIP_BYTES (24 MiB).

`add_bytecode` appends bytecode compiled by this Python (the Lambda's version) with
unchecked-hash invalidation: Lambda's file system is read-only, so a zip without `.pyc`
compiles every module on every cold start.
"""

from __future__ import annotations

import compileall
import py_compile
import re
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
# Lambda allows 50 MB zipped; ours is about 20.8 MB (19.9 MiB): the code and its
# dependencies, aiohttp and its compiled extensions (the HTTP acquirer connector;
# imported only when an acquirer is called, so the cold start does not grow),
# cryptography for the webhook secrets' envelope encryption, and the bytecode. A zip
# over 24 MiB means something was shipped that should not be.
MAX_ZIP_BYTES = 24 * 1024 * 1024
# In the Lambda runtime already; shipping them only makes the zip (and cold start) bigger.
PROVIDED_BY_LAMBDA = {"boto3", "botocore", "s3transfer", "jmespath", "snapshot_restore_py"}
LAMBDA_TASK_ROOT = "/var/task"
HASH_OPTION = re.compile(r"\s--hash=\S+")
# Lambda architecture -> the machine in wheel tags and extension module file names.
MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}


class PackagingError(RuntimeError):
    """The package is not deployable; the message says why."""


def _read_requirements(path: Path) -> list[Requirement]:
    """The requirements of a lock (continued lines, `--hash` options) or a plain list."""
    reqs = []
    for line in path.read_text().replace("\\\n", " ").splitlines():
        line = HASH_OPTION.sub("", line.split("#", 1)[0]).strip()
        if line and not line.startswith("-"):
            reqs.append(Requirement(line))
    return reqs


def runtime_distributions(requirements: Path) -> dict[str, str]:
    """{name: version} of requirements.txt and everything it needs, from the venv.

    Markers are evaluated for Lambda (Linux, CPython of this version) with the extras
    asked for, so e.g. psycopg[binary] brings psycopg-binary.
    """
    env = default_environment()
    env.update({"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"})
    found: dict[str, str] = {}
    todo = [(req, frozenset()) for req in _read_requirements(requirements)]
    while todo:
        req, parent_extras = todo.pop()
        if req.marker and not any(
            req.marker.evaluate({**env, "extra": extra}) for extra in (parent_extras or {""})
        ):
            continue
        name = canonicalize_name(req.name)
        if name in found and not req.extras:
            continue
        dist = metadata.distribution(req.name)
        found[name] = dist.version
        for sub in dist.requires or []:
            todo.append((Requirement(sub), frozenset(req.extras)))
    return found


def dev_only_distributions() -> set[str]:
    runtime = {canonicalize_name(r.name) for r in _read_requirements(ROOT / "requirements.txt")}
    dev = {canonicalize_name(r.name) for r in _read_requirements(ROOT / "requirements-dev.txt")}
    return dev - runtime


def check_zip(zip_path: Path, architecture: str) -> dict[str, object]:
    """Fail unless the zip holds the app, chalicelib and exactly the runtime dependencies."""
    if not zip_path.exists():
        raise PackagingError(f"{zip_path} was not built")
    size = zip_path.stat().st_size
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        wheel_files = {n: zf.read(n).decode() for n in names if n.endswith(".dist-info/WHEEL")}
    problems: list[str] = []
    if "app.py" not in names:
        problems.append("app.py is missing")
    if not any(n.startswith("chalicelib/") for n in names):
        problems.append("chalicelib/ is missing")
    shipped = {
        canonicalize_name(n.split("/")[0][: -len(".dist-info")].rsplit("-", 1)[0]): n.split("/")[0]
        for n in wheel_files
    }
    needed = runtime_distributions(ROOT / "requirements.txt")
    for name, version in sorted(needed.items()):
        if name not in shipped:
            problems.append(f"dependency {name}=={version} is not in the zip")
        elif not shipped[name].endswith(f"-{version}.dist-info"):
            problems.append(f"{shipped[name]} shipped, but the venv has {name}=={version}")
    # Chalice adds its own runtime (chalice/app.py ...) without metadata: dev-only
    # distributions are recognised by their .dist-info, Lambda's by their package too.
    for name in sorted(PROVIDED_BY_LAMBDA):
        if name in shipped or any(n.startswith(f"{name}/") for n in names):
            problems.append(f"{name} must not be in the zip: the Lambda runtime provides it")
    for name in sorted(dev_only_distributions() & set(shipped)):
        problems.append(f"{name} is a dev dependency and must not be in the zip")
    machine = MACHINES[architecture]
    for name, text in wheel_files.items():
        tags = [line[4:].strip() for line in text.splitlines() if line.startswith("Tag:")]
        for tag in tags:
            platform = tag.rsplit("-", 1)[-1]
            if platform != "any" and not (platform.startswith("manylinux") and machine in platform):
                problems.append(f"{name}: wheel tag {tag} is not manylinux {machine}")
    for name in names:
        if name.endswith(".so") and "-linux-gnu" in name and f"-{machine}-linux-gnu" not in name:
            problems.append(f"{name} is an extension for another machine than {machine}")
    if size > MAX_ZIP_BYTES:
        problems.append(f"the zip is {size / 2**20:.1f} MiB, over {MAX_ZIP_BYTES / 2**20:.0f} MiB")
    if problems:
        raise PackagingError(f"{zip_path} is not deployable:\n  " + "\n  ".join(problems))
    return {"zip_bytes": size, "distributions": sorted(shipped)}


@dataclass
class Bytecode:
    """The `.pyc` files compiled for one zip, and the sources (name -> CRC) they are of."""

    sources: dict[str, int]
    files: dict[str, bytes]


def _sources(zf: zipfile.ZipFile) -> dict[str, int]:
    return {i.filename: i.CRC for i in zf.infolist() if i.filename.endswith(".py")}


def compile_bytecode(zip_path: Path) -> Bytecode:
    """`__pycache__/*.cpython-3XY.pyc` for every module of the zip.

    Compiled by this interpreter, whose version Chalice gave the Lambda runtime, with
    unchecked-hash invalidation: the .pyc is used as it is (no stat of the source), which
    is what a read-only /var/task needs. Tracebacks name /var/task paths.
    """
    with tempfile.TemporaryDirectory(prefix="zip-bytecode-") as tmp:
        tree = Path(tmp) / "task"
        with zipfile.ZipFile(zip_path) as zf:
            known = set(zf.namelist())
            sources = _sources(zf)
            zf.extractall(tree)
        ok = compileall.compile_dir(
            tree,
            quiet=2,
            stripdir=str(tree),
            prependdir=LAMBDA_TASK_ROOT,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            workers=1,
        )
        if not ok:
            raise PackagingError(f"{zip_path}: a module of the zip does not compile")
        files = {
            name: path.read_bytes()
            for path in sorted(tree.rglob("*.pyc"))
            if (name := path.relative_to(tree).as_posix()) not in known
        }
    return Bytecode(sources, files)


def add_bytecode(zip_path: Path, reuse: Bytecode | None = None) -> Bytecode:
    """Append the zip's bytecode to it; returns what was added.

    Both `chalice package` runs build the same code, so the second zip takes the first
    one's bytecode when its sources are the same (name and CRC of every `.py`), and
    compiles only if they differ. The `.pyc` are appended: the entries Chalice wrote are
    neither decompressed nor compressed again.
    """
    with zipfile.ZipFile(zip_path) as zf:
        same = reuse is not None and _sources(zf) == reuse.sources
    bytecode = reuse if same and reuse is not None else compile_bytecode(zip_path)
    with zipfile.ZipFile(zip_path, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in bytecode.files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zf.writestr(info, data, zipfile.ZIP_DEFLATED)
    return bytecode
