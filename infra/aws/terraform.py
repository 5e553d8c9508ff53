"""The same stack in Terraform: `stack.tf.json` (new blocks) and `stack_override.tf.json`.

Chalice's `chalice.tf.json` stays as generated (Terraform cannot take a merge template).
Both files start from `templates/`: `stack.tf.json` holds the variables, the network,
Postgres, Redis, encryption, reports bucket, operations and each function's log group
and alias, each optional part `count`-ed on its `existing_*` variable as the SAM
template's conditions are; `stack_override.tf.json` gives Chalice's functions their
names, roles, SnapStart and reserved concurrency, and points the schedule at the alias.
`build()` adds what varies: each function's role and policy (`functions.FUNCTIONS`), the
VPC and environment every function gets (`templates/terraform-function.json`, laid over
the environment Chalice wrote from `.chalice/config.json`), the bucket's writers, the
shared gateway responses and dashboard, the API's calls through the alias and this
package's migrations digest. Resource types map one to one to the SAM template's
(`tests/packaging` checks the mapping and the outputs).
"""

from __future__ import annotations

import json
from typing import Any

from infra.aws import functions, template
from infra.aws.cloudformation import ALIAS, WRITES_SID, merge

PREFIX = "${var.stack_name}"
# Attributes that Terraform takes as JSON text; the templates write them as objects.
JSON_TEXT = frozenset({"policy", "assume_role_policy", "dashboard_body"})


def _refs(short_name: str) -> functions.Refs:
    return functions.Refs(
        database_secret="${local.database_secret_arn}",  # noqa: S106 - an ARN  # nosec B105 B106
        redis_secret="${local.redis_secret_arn}",  # noqa: S106 - an ARN  # nosec B105 B106
        idempotency_secret="${aws_secretsmanager_secret.idempotency_hmac_key.arn}",  # noqa: S106  # nosec B105 B106
        api_key_secret="${aws_secretsmanager_secret.api_key_hmac_key.arn}",  # noqa: S106  # nosec B105 B106
        webhook_key="${aws_kms_key.webhook_secrets.arn}",
        reports_bucket_arn="${aws_s3_bucket.reconciliation.arn}",
        log_group_arn=f"${{aws_cloudwatch_log_group.{short_name.replace('-', '_')}.arn}}",
    )


def as_json_text(node: Any) -> Any:
    """The template with every `JSON_TEXT` attribute's object written as JSON text."""
    if isinstance(node, list):
        return [as_json_text(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: (
            json.dumps(value)
            if key in JSON_TEXT and isinstance(value, dict)
            else as_json_text(value)
        )
        for key, value in node.items()
    }


def _functions(chalice_tf: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """{name: entry} of Chalice's functions; each needs an entry and an override block."""
    generated = chalice_tf["resource"]["aws_lambda_function"]
    entries = {name: functions.function_for(name) for name in generated}
    blocks = override["resource"]["aws_lambda_function"]
    for name in set(generated) ^ set(blocks):
        raise KeyError(
            f"function {name!r}: templates/stack_override.tf.json and Chalice's "
            "chalice.tf.json must name the same functions"
        )
    if "migrate_database" not in entries:
        raise KeyError("app.py has no migrate_database function: migrations would not run")
    return entries


def _gateway_responses(stack: dict[str, Any], override: dict[str, Any]) -> None:
    responses = template("gateway_responses.json")
    stack["resource"]["aws_api_gateway_gateway_response"] = {
        rtype.lower(): {
            "rest_api_id": "${aws_api_gateway_rest_api.rest_api.id}",
            "response_type": rtype,
            "response_templates": spec["ResponseTemplates"],
            **({"status_code": str(spec["StatusCode"])} if "StatusCode" in spec else {}),
        }
        for rtype, spec in responses.items()
    }
    override["resource"]["aws_api_gateway_deployment"] = {
        "rest_api": {
            "depends_on": [f"aws_api_gateway_gateway_response.{r.lower()}" for r in responses]
        }
    }


def build(
    chalice_tf: dict[str, Any], migrations_digest: str, package_id: str, extension_layer: str = ""
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(stack.tf.json, stack_override.tf.json) for Chalice's chalice.tf.json;
    `extension_layer`: the default of secrets_extension_layer_arn (`secrets_extension`)."""
    stack, override = template("stack.tf.json"), template("stack_override.tf.json")
    stack["variable"]["secrets_extension_layer_arn"]["default"] = extension_layer
    entries = _functions(chalice_tf, override)
    snippet = template("terraform-function.json")
    resources = stack["resource"]
    for name, fn in entries.items():
        chalice_env = chalice_tf["resource"]["aws_lambda_function"][name]["environment"]
        block = override["resource"]["aws_lambda_function"][name]
        block |= merge({"environment": chalice_env}, snippet["function"])
        resources["aws_iam_role"][f"{name}_role"] = {"name": f"{PREFIX}-{name}", **snippet["role"]}
        resources.setdefault("aws_iam_role_policy", {})[f"{name}_role"] = {
            "name": f"{name}_rolePolicy",
            "role": f"${{aws_iam_role.{name}_role.id}}",
            "policy": functions.policy_document(fn, _refs(fn.short_name)),
        }
    writers = [f"${{aws_iam_role.{name}_role.arn}}" for name in functions.report_writers()]
    for statement in resources["aws_s3_bucket_policy"]["reconciliation"]["policy"]["Statement"]:
        if statement["Sid"] == WRITES_SID and writers:
            statement["Condition"] = {"ArnNotEquals": {"aws:PrincipalArn": writers}}
    body = json.dumps(template("dashboard.json"))
    body = body.replace("${AWS::Region}", "${data.aws_region.chalice.name}")
    resources["aws_cloudwatch_dashboard"]["gateway"]["dashboard_body"] = body.replace(
        "${AWS::StackName}", PREFIX
    )
    _gateway_responses(stack, override)
    resources["aws_lambda_invocation"] = {
        "migrations": {
            "function_name": "${aws_lambda_function.migrate_database.function_name}",
            "input": json.dumps({"migrations_digest": migrations_digest}),
            "triggers": {"digest": migrations_digest, "package": package_id},
            "depends_on": [
                "aws_db_proxy_target.database",
                "aws_rds_cluster_instance.database",
                "aws_iam_role_policy.migrate_database_role",
            ],
        }
    }
    # API Gateway calls the SnapStart version through the alias, not $LATEST.
    override["locals"] = {
        "chalice_api_swagger": chalice_tf["locals"]["chalice_api_swagger"].replace(
            "${aws_lambda_function.api_handler.invoke_arn}",
            f"${{aws_lambda_alias.api_handler_{ALIAS}.invoke_arn}}",
        )
    }
    return as_json_text(stack), as_json_text(override)
