"""The whole stack as one SAM template: Chalice's functions and API, plus everything else.

`complete(sam, ...)` takes the template `chalice package` wrote and adds the network,
Postgres, Redis, encryption, reports bucket, operations, and the migration custom
resource; then it gives every function its name, log group, VPC, environment and the
least-privilege policy of its entry in `functions.FUNCTIONS`, and turns on SnapStart
(published versions behind a `live` alias, which the API and the schedules invoke).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from infra.aws import cfn_data, cfn_network, cfn_operations, functions
from infra.aws.cfn import att, ref, skip, sub

ALIAS = "live"
# Contract-shaped answers for what API Gateway rejects itself; none echoes the request
# (the default 403 for an unknown path would echo the Authorization header).
GATEWAY_RESPONSES: dict[str, Any] = json.loads(
    (Path(__file__).parent / "gateway_responses.json").read_text()
)
MIGRATIONS = "DatabaseMigrations"
ACQUIRER_URL = {
    "AcquirerUrl": {
        "Type": "String",
        "AllowedPattern": r"^https://[^\s]+$",
        "Description": "Base URL of the acquirer's API (https)",
    },
    "BatchReservedConcurrency": {
        "Type": "Number",
        "Default": 2,
        "MinValue": 1,
        "Description": "Concurrent process_payments runs at most (each holds <= 6 connections)",
    },
}
# Checks that do not fit a function of this stack, with the reason.
FUNCTION_SKIPS = (
    ("CKV_AWS_116", "Scheduled every minute: a failed run's work is redone by the next"),
    ("CKV_AWS_173", "The environment holds ids and URLs, never a secret value"),
    ("CKV_AWS_115", "Only the batch handler is capped; the API scales, RDS Proxy bounds the DB"),
)


def lambda_functions(sam: dict[str, Any]) -> dict[str, str]:
    """{logical id: Chalice function name} of the functions in Chalice's template."""
    found = {}
    for logical, resource in sam["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        handler = resource["Properties"]["Handler"]  # app.app or app.<function>
        name = handler.split(".", 1)[1]
        found[logical] = "api_handler" if name == "app" else name
    return found


def _refs(short_name: str) -> functions.Refs:
    return functions.Refs(
        database_secret=cfn_data.DATABASE_SECRET,
        redis_secret=cfn_data.REDIS_SECRET,
        idempotency_secret=ref("IdempotencyHmacKeySecret"),
        api_key_secret=ref("ApiKeyHmacKeySecret"),
        webhook_key=att("WebhookSecretsKey", "Arn"),
        reports_bucket_arn=att("ReconciliationBucket", "Arn"),
        log_group_arn=sub(
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
            f"/aws/lambda/${{AWS::StackName}}-{short_name}"
        ),
    )


def _complete_function(
    sam: dict[str, Any], logical: str, fn: functions.Function, environment: dict[str, Any]
) -> None:
    resource = sam["Resources"][logical]
    props = resource["Properties"]
    role = props["Role"]["Fn::GetAtt"][0]
    props["FunctionName"] = sub(f"${{AWS::StackName}}-{fn.short_name}")
    props["VpcConfig"] = cfn_network.vpc_config()
    props["Environment"]["Variables"].update(environment)
    if fn.snapstart:
        props["SnapStart"] = {"ApplyOn": "PublishedVersions"}
        props["AutoPublishAlias"] = ALIAS
    if fn.reserved_concurrency_parameter:
        props["ReservedConcurrentExecutions"] = ref(fn.reserved_concurrency_parameter)
    resource["DependsOn"] = [f"{logical}LogGroup"]
    resource["Metadata"] = skip(*FUNCTION_SKIPS)
    sam["Resources"][role]["Metadata"] = skip(
        ("CKV_AWS_111", "Lambda's VPC network-interface actions take no narrower resource"),
    )
    sam["Resources"][f"{logical}LogGroup"] = cfn_operations.log_group(fn.short_name)
    sam["Resources"][role]["Properties"]["Policies"] = [
        {
            "PolicyName": f"{role}Policy",
            "PolicyDocument": functions.policy_document(fn, _refs(fn.short_name)),
        }
    ]


def _invoke_api_through_alias(sam: dict[str, Any], api_logical: str) -> None:
    """API Gateway calls the published (SnapStart) version via the alias, not $LATEST."""
    alias = f"{api_logical}Alias{ALIAS}"
    body = json.dumps(sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"])
    body = body.replace(f"${{{api_logical}.Arn}}", f"${{{alias}}}")
    sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"] = json.loads(body)
    sam["Resources"][f"{api_logical}InvokePermission"]["Properties"]["FunctionName"] = ref(alias)


def complete(
    chalice_sam: dict[str, Any], migrations_digest: str, package_id: str
) -> dict[str, Any]:
    """Chalice's SAM template made into the whole stack (a new dict)."""
    sam = copy.deepcopy(chalice_sam)
    found = lambda_functions(sam)
    entries = {logical: functions.function_for(name) for logical, name in found.items()}
    writer_roles = [
        sam["Resources"][logical]["Properties"]["Role"]["Fn::GetAtt"][0]
        for logical, fn in entries.items()
        if "reports_write" in fn.grants
    ]
    sam["Description"] = (
        "Payment gateway (Chalice), stage prod: API, batch handlers, VPC, Aurora PostgreSQL "
        "Serverless v2 behind RDS Proxy, ElastiCache Serverless, KMS, reports bucket, "
        "alarms and dashboard; migrations run on every deploy."
    )
    sam["Parameters"] = {
        **ACQUIRER_URL,
        **cfn_network.parameters(),
        **cfn_data.parameters(),
        **cfn_operations.parameters(),
    }
    sam["Rules"] = {
        "ExistingVpcNeedsSubnets": {
            "RuleCondition": {"Fn::Not": [{"Fn::Equals": [ref("ExistingVpcId"), ""]}]},
            "Assertions": [
                {
                    "Assert": {"Fn::Not": [{"Fn::Contains": [ref("ExistingSubnetIds"), ""]}]},
                    "AssertDescription": "With ExistingVpcId, give ExistingSubnetIds",
                }
            ],
        }
    }
    sam["Conditions"] = {
        **cfn_network.conditions(),
        **cfn_data.conditions(),
        **cfn_operations.conditions(),
    }
    error_alarms = {logical: fn.short_name for logical, fn in entries.items() if fn.alarm_on_errors}
    sam["Resources"].update(cfn_network.resources())
    sam["Resources"].update(cfn_data.resources(writer_roles))
    sam["Resources"].update(cfn_operations.resources(error_alarms))
    environment = {**cfn_data.environment(), "ACQUIRER_URL": ref("AcquirerUrl")}
    for logical, fn in entries.items():
        _complete_function(sam, logical, fn, environment)
    api = [logical for logical, name in found.items() if name == "api_handler"]
    for logical in api:
        _invoke_api_through_alias(sam, logical)
    rest_api = sam["Resources"]["RestAPI"]
    rest_api["Properties"]["Name"] = sub("${AWS::StackName}-api")
    rest_api["Properties"]["TracingEnabled"] = True
    rest_api["Properties"]["GatewayResponses"] = GATEWAY_RESPONSES
    rest_api["Metadata"] = skip(
        (
            "CKV_AWS_76",
            "The API function logs one JSON line per request; access logs need "
            "the account-wide API Gateway logging role, which this stack does not change",
        ),
        ("CKV_AWS_120", "Answers are per merchant and change: a cache would serve stale ones"),
    )
    # cfn-lint resolves ExistingSubnetIds to its default "" inside the Fn::If branch that
    # only applies when it was given; the Rules above refuse the empty case at deploy.
    sam["Metadata"] = {"cfn-lint": {"config": {"ignore_checks": ["W1030"]}}}
    migrate = [logical for logical, name in found.items() if name == "migrate_database"]
    if not migrate:
        raise KeyError("app.py has no migrate_database function: migrations would not run")
    sam["Resources"][MIGRATIONS] = {
        "Type": "Custom::DatabaseMigrations",
        "Properties": {
            "ServiceToken": att(migrate[0], "Arn"),
            # A new value runs the migrations again: every package, and every change
            # of the SQL files, is a new deploy of the migrations.
            "MigrationsDigest": migrations_digest,
            "PackageId": package_id,
            "DatabaseReady": cfn_data.DATABASE_READY,
        },
    }
    sam["Outputs"] = {
        **sam.get("Outputs", {}),
        **cfn_network.outputs(),
        **cfn_data.outputs(),
        **cfn_operations.outputs(),
        "MigrationsApplied": {"Value": att(MIGRATIONS, "Applied")},
    }
    return sam


def resource_names_of_type(template: dict[str, Any], pattern: str) -> list[str]:
    rx = re.compile(pattern)
    return [k for k, v in template["Resources"].items() if rx.fullmatch(v["Type"])]
