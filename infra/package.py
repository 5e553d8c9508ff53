"""`make package`: the prod stage as CloudFormation/SAM and as Terraform, checked.

    python -m infra.package [--stage prod] [--out-dir build]

Runs `chalice package` twice into `<out>/cloudformation` and `<out>/terraform`: the
SAM run merges the static fragment `infra/aws/templates/sam.json` (`--merge-template`);
Terraform takes no merge template, so its static blocks are written beside Chalice's
`chalice.tf.json` as `stack.tf.json` and `stack_override.tf.json`. `infra/aws` then adds
what varies (each function's least-privilege role, the migrations digest): the whole
stack (network, Postgres, Redis, KMS, reports bucket, alarms, SnapStart, the
migrations run by the deploy) in either format.

The zip gets the migrations with the runtime package (`chalicelib/migrations/`), and
bytecode compiled by this Python (the Lambda's version) with unchecked-hash
invalidation: Lambda's file system is read-only, so a zip without `.pyc` compiles
every module on every cold start. Needs a region, never credentials: the
region comes from AWS_DEFAULT_REGION (or AWS_REGION, else us-east-1) and every AWS
credential variable is removed from Chalice's environment, so nothing can reach an account.

Chalice only warns when it cannot install a dependency for Lambda ("Could not install
dependencies: ..."), and then ships a zip that fails on import in AWS. This fails
instead: on that warning, and when the zip lacks any distribution of requirements.txt
or its dependencies, holds boto3/botocore or a dev dependency, holds a native wheel
for another platform than manylinux on the Lambda architecture, or exceeds MAX_ZIP_BYTES
(24 MiB).
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import py_compile
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REGION = "us-east-1"
# Lambda allows 50 MB zipped; ours is about 20.8 MB (19.9 MiB): the code and its
# dependencies, aiohttp and its compiled extensions (the HTTP acquirer connector;
# imported only when an acquirer is called, so the cold start does not grow),
# cryptography for the webhook secrets' envelope encryption, and the bytecode. A zip
# over 24 MiB means something was shipped that should not be.
MAX_ZIP_BYTES = 24 * 1024 * 1024
# In the Lambda runtime already; shipping them only makes the zip (and cold start) bigger.
PROVIDED_BY_LAMBDA = {"boto3", "botocore", "s3transfer", "jmespath", "snapshot_restore_py"}
LAMBDA_TASK_ROOT = "/var/task"
CREDENTIAL_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
)
DROPPED_DEPENDENCY = re.compile(r"Could not install dependencies:?\s*(.*)", re.IGNORECASE)
HASH_OPTION = re.compile(r"\s--hash=\S+")
# Lambda architecture -> the machine in wheel tags and extension module file names.
MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}
CHALICE_MAIN = "import sys; from chalice.cli import main; sys.exit(main())"


class PackagingError(RuntimeError):
    """The package is not deployable; the message says why."""


@dataclass
class Built:
    """What one `chalice package` run produced."""

    pkg_format: str
    out_dir: Path
    zip_path: Path
    seconds: float


def region() -> str:
    return os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or DEFAULT_REGION


def chalice_env() -> dict[str, str]:
    """Our environment with a region and without any credential."""
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARIABLES}
    env["AWS_DEFAULT_REGION"] = region()
    # A shared credentials file must not be picked up either.
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env["AWS_CONFIG_FILE"] = os.devnull
    return env


def run_chalice_package(stage: str, pkg_format: str, out_dir: Path) -> Built:
    """`chalice package` for one format into a fresh `out_dir`; fails on dropped deps.

    The SAM run merges `infra/aws/templates/sam.json` into Chalice's template.
    """
    from infra.aws import SAM_FRAGMENT

    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    args = ["package", "--stage", stage, "--pkg-format", pkg_format]
    if pkg_format == "cloudformation":
        args += ["--merge-template", str(SAM_FRAGMENT)]
    args.append(str(out_dir))
    started = time.perf_counter()
    # The venv's Python runs Chalice, so the Lambda runtime is this Python's version.
    proc = subprocess.run(
        [sys.executable, "-c", CHALICE_MAIN, *args],
        cwd=ROOT,
        env=chalice_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    output = proc.stdout + proc.stderr
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        raise PackagingError(f"chalice package ({pkg_format}) failed:\n{output}")
    dropped = dropped_dependencies(output)
    if dropped is not None:
        raise PackagingError(
            f"chalice could not install dependencies for Lambda: {dropped}\n"
            "The zip would fail on import in AWS. Pin a version that has a manylinux wheel "
            "for the Lambda architecture and Python."
        )
    return Built(pkg_format, out_dir, out_dir / "deployment.zip", seconds)


def dropped_dependencies(output: str) -> str | None:
    """What Chalice says it could not install (it warns and goes on), or None."""
    found = DROPPED_DEPENDENCY.search(output)
    if found is None:
        return None
    return found.group(1).strip() or "(unnamed)"


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


def stage_architecture(stage: str) -> str:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    stage_cfg = config.get("stages", {}).get(stage, {})
    return str(stage_cfg.get("lambda_architecture", config.get("lambda_architecture", "x86_64")))


def package(stage: str, out: Path) -> dict[str, object]:
    """Both formats for `stage` into `out`, checked; returns the figures."""
    if sys.version_info < (3, 12):  # noqa: UP036 - make package may run under any Python
        raise PackagingError(
            "Chalice targets the Python it runs under; python3.11 Lambdas can no longer be "
            "created (cfn-lint E2533). Use the venv's Python 3.12+."
        )
    started = time.perf_counter()
    architecture = stage_architecture(stage)
    figures: dict[str, object] = {"stage": stage, "region": region(), "arch": architecture}
    digest = migrations_digest()
    package_id = f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{digest[:12]}"
    bytecode: Bytecode | None = None
    for pkg_format in ("cloudformation", "terraform"):
        built = run_chalice_package(stage, pkg_format, out / pkg_format)
        compiled_at = time.perf_counter()
        bytecode = add_bytecode(built.zip_path, bytecode)
        figures[f"{pkg_format}_bytecode_s"] = round(time.perf_counter() - compiled_at, 1)
        figures["pyc_files"] = len(bytecode.files)
        figures |= check_zip(built.zip_path, architecture)
        figures[f"{pkg_format}_s"] = round(built.seconds, 1)
    complete_templates(out, digest, package_id)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures


def migrations_digest() -> str:
    """sha256 over the migration files' names and contents."""
    from chalicelib.migrations import migration_files

    digest = hashlib.sha256()
    for path in migration_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


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


def complete_templates(out: Path, digest: str, package_id: str) -> None:
    """Chalice's (merged) SAM and Terraform output completed into the whole stack."""
    from infra.aws import cloudformation, terraform

    sam_path = out / "cloudformation" / "sam.json"
    sam = cloudformation.complete(json.loads(sam_path.read_text()), digest, package_id)
    sam_path.write_text(json.dumps(sam, indent=2) + "\n")
    tf_dir = out / "terraform"
    chalice_tf = json.loads((tf_dir / "chalice.tf.json").read_text())
    stack, override = terraform.build(chalice_tf, digest, package_id)
    (tf_dir / "stack.tf.json").write_text(json.dumps(stack, indent=2) + "\n")
    (tf_dir / "stack_override.tf.json").write_text(json.dumps(override, indent=2) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="prod")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "build")
    args = parser.parse_args(argv)
    try:
        figures = package(args.stage, args.out_dir.resolve())
    except PackagingError as exc:
        print(f"make package: FAILED: {exc}", file=sys.stderr)
        return 1
    size_mb = int(figures["zip_bytes"]) / 1e6  # type: ignore[call-overload]
    print(
        f"packaged stage {figures['stage']} for {figures['arch']} in {figures['region']}: "
        f"{args.out_dir}/cloudformation/sam.json, {args.out_dir}/terraform/*.tf.json, "
        f"deployment.zip {size_mb:.1f} MB, {figures['seconds']} s"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
