"""The generated template's non-Lambda part, deployed to the AWS emulator's CloudFormation.

The subset is cut from the SAM template `make package` wrote (`emulated_stack.py`), not
written by hand. The emulator (moto's server, `AWS_ENDPOINT_URL`) creates the stack;
the test then reads every resource back through the services' own APIs and compares
it with what the template declares, resolved for that stack.

What moto's CloudFormation does not apply, and so is not proven here: the S3 bucket's
public access block, versioning, lifecycle and bucket key (it applies only the
encryption algorithm and tags),
and the resource types listed in `emulated_stack.NOT_EMULATED` (secrets, alarms, the
bucket policy, Aurora, RDS Proxy, ElastiCache). `test_stack.py` checks those in the
template itself, cfn-lint and checkov check them against AWS's own specifications.
"""

from __future__ import annotations

import ast
import json
import os
import uuid
from typing import Any

import boto3
import pytest

from tests.packaging.conftest import Package
from tests.packaging.emulated_stack import EMULATED, NOT_EMULATED, Resolver, emulated_subset

REGION = "us-east-1"
PARAMETERS = {"AcquirerUrl": "https://acquirer.example.com"}


def _client(service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _document(held: Any) -> Any:
    """A policy document as the emulator returns it: a dict, JSON, or (moto's
    CloudFormation path stores `str(dict)` for inline role and key policies) a repr."""
    if not isinstance(held, str):
        return held
    try:
        return json.loads(held)
    except json.JSONDecodeError:
        return ast.literal_eval(held)


class Deployed:
    """The emulator's stack, its resources by logical id, and the template resolved for it."""

    def __init__(self, template: dict[str, Any]) -> None:
        self.template = template
        self.name = f"gw-{uuid.uuid4().hex[:10]}"
        cfn = _client("cloudformation")
        cfn.create_stack(
            StackName=self.name,
            TemplateBody=json.dumps(template),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()],
            Capabilities=["CAPABILITY_IAM"],
        )
        cfn.get_waiter("stack_create_complete").wait(
            StackName=self.name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
        listed = cfn.describe_stack_resources(StackName=self.name)["StackResources"]
        self.statuses = {r["LogicalResourceId"]: r["ResourceStatus"] for r in listed}
        self.physical = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in listed}
        account = _client("sts").get_caller_identity()["Account"]
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": account,
            "AWS::Partition": "aws",
            "AWS::StackName": self.name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.resolver = Resolver(template, PARAMETERS, self.physical, pseudo, self._get_att)

    def _get_att(self, logical: str, attribute: str) -> str:
        rtype = self.template["Resources"][logical]["Type"]
        if (rtype, attribute) == ("AWS::KMS::Key", "Arn"):
            key = _client("kms").describe_key(KeyId=self.physical[logical])["KeyMetadata"]
            return str(key["Arn"])
        if (rtype, attribute) == ("AWS::S3::Bucket", "Arn"):
            return f"arn:aws:s3:::{self.physical[logical]}"
        raise AssertionError(f"GetAtt {logical}.{attribute} is not looked up here")

    def declared(self, logical: str) -> dict[str, Any]:
        """The resource's properties as the template declares them, resolved."""
        props: dict[str, Any] = self.resolver.resolve(self.template["Resources"][logical])
        return props["Properties"]

    def of_type(self, rtype: str) -> list[str]:
        return [k for k, r in self.template["Resources"].items() if r["Type"] == rtype]


@pytest.fixture(scope="module")
def deployed(package: Package) -> Deployed:
    return Deployed(emulated_subset(package.sam, PARAMETERS))


def test_every_resource_type_is_deployed_or_left_out_with_a_reason(package: Package) -> None:
    """The split follows moto's own CloudFormation model map, not a guess."""
    import moto.cloudformation.parsing as parsing
    from moto import elasticache, logs, secretsmanager  # noqa: F401 - registers their models

    supported = set(parsing.get_model_map())
    assert supported >= EMULATED, sorted(EMULATED - supported)
    unsupported = {t for t in NOT_EMULATED if not t.startswith(("Custom::", "AWS::Serverless::"))}
    assert unsupported & supported <= {"AWS::RDS::DBInstance", "AWS::Lambda::Permission"}, (
        "moto now creates these: deploy them too"
    )
    subset = emulated_subset(package.sam, PARAMETERS)
    assert {r["Type"] for r in subset["Resources"].values()} == EMULATED
    assert "Transform" not in subset and "Fn::Transform" not in json.dumps(subset)


def test_the_stack_is_created_with_every_resource_of_the_subset(deployed: Deployed) -> None:
    resources = deployed.template["Resources"]
    expected = {
        logical
        for logical, resource in resources.items()
        if "Condition" not in resource or deployed.resolver.condition(resource["Condition"])
    }
    assert len(expected) >= 25
    assert {k for k, status in deployed.statuses.items() if status == "CREATE_COMPLETE"} == expected


def test_each_role_holds_exactly_the_policy_the_template_declares(deployed: Deployed) -> None:
    iam = _client("iam")
    roles = deployed.of_type("AWS::IAM::Role")
    assert {"ApiHandlerRole", "ProcessPaymentsRole", "DeliverWebhooksRole"} <= set(roles)
    for logical in roles:
        declared = deployed.declared(logical)
        name = deployed.physical[logical]
        role = iam.get_role(RoleName=name)["Role"]
        assert role["AssumeRolePolicyDocument"] == declared["AssumeRolePolicyDocument"], logical
        names = iam.list_role_policies(RoleName=name)["PolicyNames"]
        assert sorted(names) == sorted(p["PolicyName"] for p in declared["Policies"]), logical
        for policy in declared["Policies"]:
            held = iam.get_role_policy(RoleName=name, PolicyName=policy["PolicyName"])
            assert _document(held["PolicyDocument"]) == policy["PolicyDocument"], logical
        assert iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"] == []
    # The one key grant of the API is on the stack's own key, under its context.
    api = deployed.declared("ApiHandlerRole")["Policies"][0]["PolicyDocument"]["Statement"]
    (kms_grant,) = [s for s in api if str(s["Action"]).startswith("kms:")]
    assert kms_grant["Resource"] == deployed.resolver.resolve(
        {"Fn::GetAtt": ["WebhookSecretsKey", "Arn"]}
    )


def test_the_key_has_its_policy_and_rotation(deployed: Deployed) -> None:
    kms = _client("kms")
    (logical,) = deployed.of_type("AWS::KMS::Key")
    declared = deployed.declared(logical)
    key_id = deployed.physical[logical]
    policy = _document(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    assert policy == _document(declared["KeyPolicy"])
    assert policy["Statement"], "the key policy is the template's, not moto's default"
    assert kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] is True
    meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (meta["KeyUsage"], meta["Enabled"]) == ("ENCRYPT_DECRYPT", True)
    (alias,) = deployed.of_type("AWS::KMS::Alias")
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
    assert aliases[deployed.declared(alias)["AliasName"]] == key_id


def test_the_bucket_is_encrypted_with_kms(deployed: Deployed) -> None:
    s3 = _client("s3")
    (logical,) = deployed.of_type("AWS::S3::Bucket")
    declared = deployed.declared(logical)
    held = s3.get_bucket_encryption(Bucket=deployed.physical[logical])
    (rule,) = held["ServerSideEncryptionConfiguration"]["Rules"]
    (declared_rule,) = declared["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    # CloudFormation's ServerSideEncryptionByDefault is the API's ApplyServerSide...
    assert (
        rule["ApplyServerSideEncryptionByDefault"]
        == (declared_rule["ServerSideEncryptionByDefault"])
    )
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"


def test_each_function_has_its_log_group_with_retention(deployed: Deployed) -> None:
    logs = _client("logs")
    groups = deployed.of_type("AWS::Logs::LogGroup")
    import app

    # One per function: every scheduled and plain Lambda function, and the API handler.
    assert len(groups) == len(app.app.event_sources) + len(app.app.pure_lambda_functions) + 1
    for logical in groups:
        declared = deployed.declared(logical)
        found = logs.describe_log_groups(logGroupNamePrefix=declared["LogGroupName"])["logGroups"]
        (group,) = [g for g in found if g["logGroupName"] == declared["LogGroupName"]]
        assert group["retentionInDays"] == declared["RetentionInDays"] == 90
        assert group["logGroupName"].startswith(f"/aws/lambda/{deployed.name}-")

    # Each function's role may write to its own group, and that group exists.
    writers = 0
    held = {
        g["arn"] for g in logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/")["logGroups"]
    }
    for role in deployed.of_type("AWS::IAM::Role"):
        for policy in deployed.declared(role)["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                if statement.get("Sid") == "WriteOwnLogs":
                    assert statement["Resource"] in held, (role, statement["Resource"])
                    writers += 1
    assert writers == len(groups)


def test_the_network_has_two_zones_endpoints_and_closed_security_groups(
    deployed: Deployed,
) -> None:
    ec2 = _client("ec2")
    vpc_id = deployed.physical["Vpc"]
    (vpc,) = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"]
    assert vpc["CidrBlock"] == deployed.declared("Vpc")["CidrBlock"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    assert len({s["AvailabilityZone"] for s in subnets}) == 2
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    services = {e["ServiceName"] for e in endpoints["VpcEndpoints"]}
    assert services == {f"com.amazonaws.{REGION}.{s}" for s in ("secretsmanager", "kms", "s3")}
    for logical in deployed.of_type("AWS::EC2::SecurityGroup"):
        declared = deployed.declared(logical)
        (group,) = ec2.describe_security_groups(GroupIds=[deployed.physical[logical]])[
            "SecurityGroups"
        ]
        assert group["VpcId"] == vpc_id, logical
        ingress = {
            (r["IpProtocol"], r.get("FromPort"), r.get("ToPort")) for r in group["IpPermissions"]
        }
        assert ingress == {
            (r["IpProtocol"], r["FromPort"], r["ToPort"])
            for r in declared.get("SecurityGroupIngress", [])
        }, logical


def test_the_dashboard_and_the_alarm_topic_exist(deployed: Deployed) -> None:
    (logical,) = deployed.of_type("AWS::CloudWatch::Dashboard")
    declared = deployed.declared(logical)
    cloudwatch = _client("cloudwatch")
    name = declared.get("DashboardName") or deployed.physical[logical]
    body = cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"]
    assert json.loads(body) == json.loads(declared["DashboardBody"])
    (topic,) = deployed.of_type("AWS::SNS::Topic")
    attributes = _client("sns").get_topic_attributes(TopicArn=deployed.physical[topic])
    assert attributes["Attributes"]["TopicArn"] == deployed.physical[topic]
