"""The whole stack that `make package` emits: SAM and Terraform, linted, least privilege."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from infra.aws import cloudformation, functions, secrets_extension
from tests.packaging.conftest import ROOT, Package

CHECKOV = ROOT / ".venv" / "checkov" / "bin" / "checkov"  # its own venv: see the Makefile
# The functions that publish SnapStart versions behind the `live` alias (templates/).
SNAPSTART = {"api_handler", "process_payments"}

# SAM type -> Terraform type of the resources the stack adds (beyond Chalice's).
SAME_RESOURCES = {
    "AWS::EC2::VPC": "aws_vpc",
    "AWS::EC2::Subnet": "aws_subnet",
    "AWS::EC2::VPCEndpoint": "aws_vpc_endpoint",
    "AWS::EC2::SecurityGroup": "aws_security_group",
    "AWS::RDS::DBCluster": "aws_rds_cluster",
    "AWS::RDS::DBProxy": "aws_db_proxy",
    "AWS::ElastiCache::ServerlessCache": "aws_elasticache_serverless_cache",
    "AWS::KMS::Key": "aws_kms_key",
    "AWS::S3::Bucket": "aws_s3_bucket",
    "AWS::CloudWatch::Alarm": "aws_cloudwatch_metric_alarm",
    "AWS::CloudWatch::Dashboard": "aws_cloudwatch_dashboard",
    "AWS::Logs::LogGroup": "aws_cloudwatch_log_group",
}


def _of_type(template: dict[str, Any], rtype: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == rtype}


def test_sam_template_passes_cfn_lint_and_checkov(package: Package) -> None:
    sam = package.out / "cloudformation" / "sam.json"
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(sam)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    checkov = subprocess.run(
        [
            str(CHECKOV),
            "-f",
            str(sam),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--compact",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(checkov.stdout)
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == [], failed
    assert report["results"]["skipped_checks"], "the suppressions are read"
    for skipped in report["results"]["skipped_checks"]:
        assert skipped["check_result"].get("suppress_comment"), (
            f"{skipped['check_id']} is skipped without reason"
        )


def test_every_function_has_exactly_its_grants(package: Package) -> None:
    sam = package.sam
    found = cloudformation.lambda_functions(sam)
    for logical, name in found.items():
        fn = functions.FUNCTIONS[name]
        props = sam["Resources"][logical]["Properties"]
        role = sam["Resources"][props["Role"]["Fn::GetAtt"][0]]
        (policy,) = role["Properties"]["Policies"]
        statements = policy["PolicyDocument"]["Statement"]
        actions = {
            a
            for st in statements
            for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
        }
        assert ("kms:Decrypt" in actions) == (name == "deliver_webhooks"), name
        assert ("kms:GenerateDataKey" in actions) == (name == "api_handler"), name
        assert ("s3:PutObject" in actions) == ("reports_write" in fn.grants), name
        for st in statements:
            assert st["Effect"] == "Allow" and "*" not in str(st["Action"])
            if st["Resource"] == "*":
                assert st["Sid"] == "VpcNetworkInterfaces"
            if st["Action"] in ("kms:Decrypt", "kms:GenerateDataKey"):
                assert st["Condition"]["StringEquals"] == {
                    functions.WEBHOOK_KMS_CONTEXT_KEY: functions.WEBHOOK_KMS_PURPOSE
                }
        assert props["VpcConfig"]["SecurityGroupIds"] == [{"Ref": "FunctionSecurityGroup"}]
        assert ("SnapStart" in props) == (name in SNAPSTART), name
    assert found["ProcessPayments"] == "process_payments"
    batch = sam["Resources"]["ProcessPayments"]["Properties"]
    assert batch["ReservedConcurrentExecutions"] == {"Ref": "BatchReservedConcurrency"}
    assert batch["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert sam["Resources"]["APIHandler"]["Properties"]["SnapStart"]["ApplyOn"] == (
        "PublishedVersions"
    )
    assert "APIHandlerAliaslive" in json.dumps(sam["Resources"]["RestAPI"])


def test_both_formats_give_each_function_the_same_grants(package: Package) -> None:
    """functions.py is the one source: the SAM role and the Terraform role policy of each
    function hold the same statements (their resources named each format's way)."""
    sam = package.sam
    stack = json.loads((package.out / "terraform" / "stack.tf.json").read_text())
    tf_policies = stack["resource"]["aws_iam_role_policy"]
    for logical, name in cloudformation.lambda_functions(sam).items():
        role = sam["Resources"][logical]["Properties"]["Role"]["Fn::GetAtt"][0]
        (policy,) = sam["Resources"][role]["Properties"]["Policies"]
        in_sam = policy["PolicyDocument"]["Statement"]
        in_tf = json.loads(tf_policies[f"{name}_role"]["policy"])["Statement"]
        assert [(s["Sid"], s["Action"]) for s in in_sam] == [
            (s["Sid"], s["Action"]) for s in in_tf
        ], name
        sids = {s["Sid"] for s in in_sam}
        assert {"WriteOwnLogs", "VpcNetworkInterfaces"} <= sids, name


def test_the_roles_are_the_stacks_not_chalices(package: Package) -> None:
    """Chalice makes no role and reads no policy file: each role is made by infra/aws
    with its function's grants (a policy file naming other secrets was replaced silently)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())["stages"]["prod"]
    assert config["manage_iam_role"] is False and "iam_policy_file" not in config
    assert not list((ROOT / ".chalice").glob("policy-*.json"))
    assert "aws_iam_role" not in package.terraform["resource"]
    assert "aws_iam_role_policy" not in package.terraform["resource"]
    sam = package.sam
    for logical in cloudformation.lambda_functions(sam):
        role = sam["Resources"][logical]["Properties"]["Role"]
        assert role == {"Fn::GetAtt": [role["Fn::GetAtt"][0], "Arn"]}, logical
    override = json.loads((package.out / "terraform" / "stack_override.tf.json").read_text())
    for name, block in override["resource"]["aws_lambda_function"].items():
        assert block["role"] == f"${{aws_iam_role.{name}_role.arn}}", name


def test_the_fragment_may_not_name_what_chalice_did_not_make(package: Package) -> None:
    sam = package.sam
    sam["Resources"]["Renamed"] = {"Properties": {"FunctionName": "x"}}
    try:
        cloudformation.complete(sam, "d", "p")
    except KeyError as exc:
        assert "Renamed" in str(exc)
    else:
        raise AssertionError("a fragment naming a resource Chalice did not make was packaged")


def test_a_function_without_an_entry_fails_the_package(package: Package) -> None:
    sam = package.sam
    sam["Resources"]["Intruder"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {"Handler": "app.intruder", "Role": {"Fn::GetAtt": ["IntruderRole", "Arn"]}},
    }
    try:
        cloudformation.complete(sam, "d", "p")
    except KeyError as exc:
        assert "intruder" in str(exc)
    else:
        raise AssertionError("a function without grants was packaged")


def test_the_stack_has_migrations_alarms_and_encryption(package: Package) -> None:
    sam = package.sam
    migrations = sam["Resources"]["DatabaseMigrations"]
    assert migrations["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["MigrateDatabase", "Arn"]}
    alarms = {
        a["Properties"]["MetricName"] for a in _of_type(sam, "AWS::CloudWatch::Alarm").values()
    }
    assert {"DeadLettered", "QueueLag", "UnknownOutcomes", "5XXError", "Errors"} <= alarms
    bucket = sam["Resources"]["ReconciliationBucket"]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] is True
    proxy = sam["Resources"]["DatabaseProxy"]["Properties"]
    assert proxy["RequireTLS"] is True
    env = sam["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert {"ACQUIRER_URL", "RECONCILIATION_BUCKET", "WEBHOOK_SECRETS_KMS_KEY_ID"} <= set(env)


def test_terraform_declares_the_same_resources_and_outputs(package: Package) -> None:
    tf_dir = package.out / "terraform"
    stack = json.loads((tf_dir / "stack.tf.json").read_text())
    override = json.loads((tf_dir / "stack_override.tf.json").read_text())
    sam = package.sam
    for cfn_type, tf_type in SAME_RESOURCES.items():
        assert len(_of_type(sam, cfn_type)) == len(stack["resource"].get(tf_type, {})), cfn_type
    tf_outputs = set(stack["output"]) | set(package.terraform["output"])
    assert tf_outputs <= set(sam["Outputs"])
    assert set(sam["Outputs"]) - tf_outputs <= {"APIHandlerName", "APIHandlerArn"}
    generated = package.terraform["resource"]
    for rtype, blocks in override["resource"].items():  # an override of a missing block fails
        assert set(blocks) <= set(generated[rtype]), rtype
    assert "aws_lambda_invocation" in stack["resource"]


def test_every_function_gets_the_secrets_extension_of_the_packaged_region(
    package: Package,
) -> None:
    """The AWS Parameters and Secrets extension (infra/aws/secrets_extension.py): its
    layer defaults to the packaged region's (us-east-1 here: no region is set) and
    architecture, every function has it with its port, and an empty parameter removes
    both (the code then reads secrets through boto3)."""
    layer = secrets_extension.layer_arn(package.figures["region"], package.figures["arch"])
    assert layer.startswith("arn:aws:lambda:us-east-1:177933569100:layer:")
    sam = package.sam
    assert sam["Parameters"]["SecretsExtensionLayerArn"]["Default"] == layer
    when = ["HasSecretsExtension"]
    for logical, resource in _of_type(sam, "AWS::Serverless::Function").items():
        props = resource["Properties"]
        assert props["Layers"]["Fn::If"][:2] == [*when, [{"Ref": "SecretsExtensionLayerArn"}]]
        port = props["Environment"]["Variables"]["PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"]
        assert port["Fn::If"][:2] == [*when, "2773"], logical
    tf_dir = package.out / "terraform"
    stack = json.loads((tf_dir / "stack.tf.json").read_text())
    override = json.loads((tf_dir / "stack_override.tf.json").read_text())
    assert stack["variable"]["secrets_extension_layer_arn"]["default"] == layer
    for name, block in override["resource"]["aws_lambda_function"].items():
        assert "var.secrets_extension_layer_arn" in block["layers"], name
        variables = block["environment"]["variables"]
        assert "2773" in variables["PARAMETERS_SECRETS_EXTENSION_HTTP_PORT"], name
    assert secrets_extension.layer_arn("mars-north-1", "x86_64") == ""
    assert secrets_extension.layer_arn("eu-west-1", "arm64").split(":")[-2].endswith("-Arm64")
