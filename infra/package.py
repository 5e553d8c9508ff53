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
bytecode (`infra/lambda_zip.py`). Needs a region, never credentials: the region comes
from AWS_DEFAULT_REGION (or AWS_REGION, else us-east-1) and every AWS credential
variable is removed from Chalice's environment, so nothing can reach an account.

Chalice only warns when it cannot install a dependency for Lambda ("Could not install
dependencies: ..."), and then ships a zip that fails on import in AWS. This fails
instead: on that warning, and when `lambda_zip.check_zip` finds the zip not deployable
(a missing or extra distribution, a wheel for another platform, over its 24 MiB limit).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from infra.lambda_zip import Bytecode, PackagingError, add_bytecode, check_zip

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REGION = "us-east-1"
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
CHALICE_MAIN = "import sys; from chalice.cli import main; sys.exit(main())"


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
    complete_templates(out, digest, package_id, architecture)
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures


def migrations_digest() -> str:
    """sha256 over the migration files' names and contents."""
    from chalicelib.migrations import migration_files

    digest = hashlib.sha256()
    for path in migration_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def complete_templates(out: Path, digest: str, package_id: str, architecture: str) -> None:
    """Chalice's (merged) SAM and Terraform output completed into the whole stack, the
    secrets extension's layer defaulting to the packaged region's."""
    from infra.aws import cloudformation, secrets_extension, terraform

    layer = secrets_extension.layer_arn(region(), architecture)
    sam_path = out / "cloudformation" / "sam.json"
    sam = cloudformation.complete(json.loads(sam_path.read_text()), digest, package_id, layer)
    sam_path.write_text(json.dumps(sam, indent=2) + "\n")
    tf_dir = out / "terraform"
    chalice_tf = json.loads((tf_dir / "chalice.tf.json").read_text())
    stack, override = terraform.build(chalice_tf, digest, package_id, layer)
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
