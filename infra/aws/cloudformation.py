"""The whole stack as one SAM template: Chalice's output merged with `templates/sam.json`.

`chalice package --merge-template infra/aws/templates/sam.json` writes Chalice's
functions and API merged with the static fragment: the network, Postgres, Redis,
encryption, reports bucket, operations and, for each function, its name, log group,
SnapStart (published versions behind a `live` alias) and role reference. `complete()`
then adds only what the fragment cannot hold: each function's role with the policy of
its entry in `functions.FUNCTIONS`, the VPC and environment every function gets
(`templates/sam-function.json`), the bucket's writers, the shared gateway responses and
dashboard, the API's calls through the alias, and this package's migrations digest.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from infra.aws import functions, template

ALIAS = "live"
MIGRATIONS = "DatabaseMigrations"
WRITES_SID = "OnlyReconciliationWrites"


def lambda_functions(sam: dict[str, Any]) -> dict[str, str]:
    """{logical id: Chalice function name} of the functions in Chalice's template."""
    found = {}
    for logical, resource in sam["Resources"].items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        handler = resource["Properties"]["Handler"]  # app.app or app.<function>
        name = handler.split(".", 1)[1]
        found[logical] = "api_handler" if name == "app" else name
    return found


def merge(base: Any, extra: Any) -> Any:
    """`extra` laid over `base`: dicts merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(extra, dict):
        return {**base, **{k: merge(base.get(k), v) for k, v in extra.items()}}
    return copy.deepcopy(extra)


def _refs(short_name: str) -> functions.Refs:
    return functions.Refs(
        database_secret={
            "Fn::If": [
                "CreateDatabase",
                {"Fn::GetAtt": ["DatabaseCluster", "MasterUserSecret.SecretArn"]},
                {"Ref": "ExistingDatabaseSecretArn"},
            ]
        },
        redis_secret={
            "Fn::If": ["CreateCache", {"Ref": "RedisUrlSecret"}, {"Ref": "ExistingRedisSecretArn"}]
        },
        idempotency_secret={"Ref": "IdempotencyHmacKeySecret"},
        api_key_secret={"Ref": "ApiKeyHmacKeySecret"},
        webhook_key={"Fn::GetAtt": ["WebhookSecretsKey", "Arn"]},
        reports_bucket_arn={"Fn::GetAtt": ["ReconciliationBucket", "Arn"]},
        log_group_arn={
            "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
            f"/aws/lambda/${{AWS::StackName}}-{short_name}"
        },
    )


def _role_of(resource: dict[str, Any], logical: str) -> str:
    role = resource["Properties"].get("Role")
    if (
        not isinstance(role, dict)
        or "Fn::GetAtt" not in role
        or "FunctionName" not in (resource["Properties"])
    ):
        raise KeyError(
            f"function {logical} has no part in infra/aws/templates/sam.json "
            "(its FunctionName, Role and log group)"
        )
    return str(role["Fn::GetAtt"][0])


def complete(
    sam_in: dict[str, Any], migrations_digest: str, package_id: str, extension_layer: str = ""
) -> dict[str, Any]:
    """Chalice's merged SAM template made into the whole stack (a new dict);
    `extension_layer`: the default of SecretsExtensionLayerArn (`secrets_extension`)."""
    sam = copy.deepcopy(sam_in)
    sam["Parameters"]["SecretsExtensionLayerArn"]["Default"] = extension_layer
    resources = sam["Resources"]
    found = lambda_functions(sam)
    entries = {logical: functions.function_for(name) for logical, name in found.items()}
    for logical, resource in resources.items():
        if "Type" not in resource:  # the fragment names a resource Chalice did not make
            raise KeyError(f"templates/sam.json: {logical} is not in Chalice's template")
    snippet = template("sam-function.json")
    roles = {}
    for logical, fn in entries.items():
        resources[logical] = merge(resources[logical], snippet["Function"])
        roles[found[logical]] = role = _role_of(resources[logical], logical)
        policy = functions.policy_document(fn, _refs(fn.short_name))
        policies = [{"PolicyName": f"{role}Policy", "PolicyDocument": policy}]
        resources[role] = merge(snippet["Role"], {"Properties": {"Policies": policies}})
    writers = [{"Fn::GetAtt": [roles[name], "Arn"]} for name in functions.report_writers()]
    for statement in resources["ReconciliationBucketPolicy"]["Properties"]["PolicyDocument"][
        "Statement"
    ]:
        if statement["Sid"] == WRITES_SID and writers:
            statement["Condition"] = {"ArnNotEquals": {"aws:PrincipalArn": writers}}
    rest_api = resources["RestAPI"]["Properties"]
    rest_api["GatewayResponses"] = template("gateway_responses.json")
    for logical, name in found.items():  # API Gateway calls the SnapStart version
        if name == "api_handler":
            body = json.dumps(rest_api["DefinitionBody"])
            body = body.replace(f"${{{logical}.Arn}}", f"${{{logical}Alias{ALIAS}}}")
            rest_api["DefinitionBody"] = json.loads(body)
    resources["Dashboard"]["Properties"]["DashboardBody"] = {
        "Fn::Sub": json.dumps(template("dashboard.json"))
    }
    if "migrate_database" not in found.values():
        raise KeyError("app.py has no migrate_database function: migrations would not run")
    # A new value runs the migrations again: every package, and every change of the
    # SQL files, is a new deploy of the migrations.
    resources[MIGRATIONS]["Properties"] |= {
        "MigrationsDigest": migrations_digest,
        "PackageId": package_id,
    }
    return sam
