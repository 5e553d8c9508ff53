"""The same stack in Terraform: `stack.tf.json` (new blocks) and `stack_override.tf.json`.

Chalice's `chalice.tf.json` stays as generated; the override gives its functions their
names' log groups, VPC, environment, SnapStart with a `live` alias, reserved concurrency
and the policies of `functions.FUNCTIONS`, and points the API and the schedules at the
alias. Each optional part is `count`-ed on its `existing_*` variable, as the SAM
template's conditions are. Resource types map one to one to the SAM template's
(`tests/packaging` checks the mapping and the outputs).
"""

from __future__ import annotations

import json
from typing import Any

from infra.aws import cfn_operations, functions
from infra.aws.cloudformation import GATEWAY_RESPONSES
from infra.aws.terraform_resources import data_resources, network_resources, ops_resources

PREFIX = "${var.stack_name}"
ALIAS = "live"
VARIABLES: dict[str, dict[str, Any]] = {
    "stack_name": {"type": "string", "default": "payment-gateway-prod"},
    "acquirer_url": {"type": "string", "description": "Base URL of the acquirer's API (https)"},
    "batch_reserved_concurrency": {"type": "number", "default": 2},
    "existing_vpc_id": {"type": "string", "default": ""},
    "existing_subnet_ids": {"type": "list(string)", "default": []},
    "vpc_cidr": {"type": "string", "default": "10.40.0.0/16"},
    "existing_database_secret_arn": {"type": "string", "default": ""},
    "existing_database_host": {"type": "string", "default": ""},
    "existing_redis_secret_arn": {"type": "string", "default": ""},
    "database_min_capacity": {"type": "number", "default": 0.5},
    "database_max_capacity": {"type": "number", "default": 4},
    "cache_max_data_gb": {"type": "number", "default": 1},
    "cache_max_ecpu_per_second": {"type": "number", "default": 5000},
    "alarm_email": {"type": "string", "default": ""},
    "queue_lag_alarm_seconds": {"type": "number", "default": 120},
    "unknown_outcomes_alarm_count": {"type": "number", "default": 5},
    "api_5xx_alarm_rate": {"type": "number", "default": 0.01},
}
LOCALS = {
    "create_vpc": '${var.existing_vpc_id == ""}',
    "create_database": '${var.existing_database_secret_arn == ""}',
    "create_cache": '${var.existing_redis_secret_arn == ""}',
    "vpc_id": "${local.create_vpc ? aws_vpc.vpc[0].id : var.existing_vpc_id}",
    "subnet_ids": (
        "${local.create_vpc ? [aws_subnet.private_a[0].id, aws_subnet.private_b[0].id]"
        " : var.existing_subnet_ids}"
    ),
    "database_secret_arn": (  # nosec B105: an ARN reference, not a secret
        "${local.create_database ? aws_rds_cluster.database[0].master_user_secret[0].secret_arn"
        " : var.existing_database_secret_arn}"
    ),
    "database_host": (
        "${local.create_database ? aws_db_proxy.database[0].endpoint : var.existing_database_host}"
    ),
    "redis_secret_arn": (  # nosec B105: an ARN reference, not a secret
        "${local.create_cache ? aws_secretsmanager_secret.redis_url[0].arn"
        " : var.existing_redis_secret_arn}"
    ),
}
OUTPUTS = {
    "VpcId": "${local.vpc_id}",
    "FunctionSecurityGroupId": "${aws_security_group.functions.id}",
    "PrivateSubnetIds": '${join(",", local.subnet_ids)}',
    "DatabaseProxyEndpoint": '${local.create_database ? aws_db_proxy.database[0].endpoint : ""}',
    "CacheEndpoint": (
        '${local.create_cache ? aws_elasticache_serverless_cache.cache[0].endpoint[0].address : ""}'
    ),
    "WebhookSecretsKeyArn": "${aws_kms_key.webhook_secrets.arn}",
    "ReconciliationBucketName": "${aws_s3_bucket.reconciliation.bucket}",
    "AlarmTopicArn": "${aws_sns_topic.alarms.arn}",
    "DashboardName": "${aws_cloudwatch_dashboard.gateway.dashboard_name}",
    "MigrationsApplied": "${aws_lambda_invocation.migrations.result}",
}


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


def environment() -> dict[str, str]:
    return {
        "DATABASE_SECRET_ID": "${local.database_secret_arn}",  # nosec B105 B106: an ARN reference
        "DATABASE_HOST": "${local.database_host}",
        "DATABASE_NAME": '${local.create_database ? "gateway" : ""}',
        "DATABASE_SSLMODE": "require",
        "REDIS_SECRET_ID": "${local.redis_secret_arn}",  # nosec B105 B106: an ARN reference
        "WEBHOOK_SECRETS_KMS_KEY_ID": "${aws_kms_key.webhook_secrets.key_id}",
        "IDEMPOTENCY_HMAC_SECRET_ID": "${aws_secretsmanager_secret.idempotency_hmac_key.arn}",
        "API_KEY_HMAC_SECRET_ID": "${aws_secretsmanager_secret.api_key_hmac_key.arn}",
        "RECONCILIATION_BUCKET": "${aws_s3_bucket.reconciliation.bucket}",
        "ACQUIRER_URL": "${var.acquirer_url}",
    }


def build(
    chalice_tf: dict[str, Any], migrations_digest: str, package_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(stack.tf.json, stack_override.tf.json) for Chalice's chalice.tf.json."""
    generated = chalice_tf["resource"]["aws_lambda_function"]
    entries = {name: functions.function_for(name) for name in generated}
    writers = [
        f"${{aws_iam_role.{name}_role.arn}}"
        for name, fn in entries.items()
        if "reports_write" in fn.grants
    ]
    error_alarms = {name: fn.short_name for name, fn in entries.items() if fn.alarm_on_errors}
    resources: dict[str, dict[str, Any]] = {}
    for part in (network_resources(), data_resources(writers), ops_resources(error_alarms)):
        for rtype, blocks in part.items():
            resources.setdefault(rtype, {}).update(blocks)
    override: dict[str, dict[str, Any]] = {
        "aws_lambda_function": {},
        "aws_iam_role_policy": {},
        "aws_lambda_permission": {},
        "aws_cloudwatch_event_target": {},
    }
    env = environment()
    for name, fn in entries.items():
        base = generated[name]
        log_group = fn.short_name.replace("-", "_")
        resources.setdefault("aws_cloudwatch_log_group", {})[log_group] = {
            "name": f"/aws/lambda/{PREFIX}-{fn.short_name}",
            "retention_in_days": cfn_operations.LOG_RETENTION_DAYS,
        }
        block: dict[str, Any] = {
            "function_name": f"{PREFIX}-{fn.short_name}",
            "vpc_config": {
                "subnet_ids": "${local.subnet_ids}",
                "security_group_ids": ["${aws_security_group.functions.id}"],
            },
            "environment": {"variables": {**base["environment"]["variables"], **env}},
            "depends_on": [f"aws_cloudwatch_log_group.{log_group}"],
        }
        if fn.snapstart:
            block |= {"publish": True, "snap_start": {"apply_on": "PublishedVersions"}}
            resources.setdefault("aws_lambda_alias", {})[f"{name}_{ALIAS}"] = {
                "name": ALIAS,
                "function_name": f"${{aws_lambda_function.{name}.function_name}}",
                "function_version": f"${{aws_lambda_function.{name}.version}}",
            }
        if fn.reserved_concurrency_parameter:
            block["reserved_concurrent_executions"] = "${var.batch_reserved_concurrency}"
        override["aws_lambda_function"][name] = block
        override["aws_iam_role_policy"][f"{name}_role"] = {
            "policy": json.dumps(functions.policy_document(fn, _refs(fn.short_name)))
        }
        event = f"{name}-event"
        if fn.snapstart and event in chalice_tf["resource"].get("aws_cloudwatch_event_target", {}):
            override["aws_cloudwatch_event_target"][event] = {
                "arn": f"${{aws_lambda_alias.{name}_{ALIAS}.arn}}"
            }
            override["aws_lambda_permission"][event] = {"qualifier": ALIAS}
    if "api_handler" in entries and entries["api_handler"].snapstart:
        swagger = chalice_tf["locals"]["chalice_api_swagger"].replace(
            "${aws_lambda_function.api_handler.invoke_arn}",
            f"${{aws_lambda_alias.api_handler_{ALIAS}.invoke_arn}}",
        )
        override["locals"] = {"chalice_api_swagger": swagger}  # type: ignore[assignment]
        override["aws_lambda_permission"]["rest_api_invoke"] = {"qualifier": ALIAS}
    if "migrate_database" not in entries:
        raise KeyError("app.py has no migrate_database function: migrations would not run")
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
    override["aws_api_gateway_rest_api"] = {"rest_api": {"name": f"{PREFIX}-api"}}
    resources["aws_api_gateway_gateway_response"] = {
        rtype.lower(): {
            "rest_api_id": "${aws_api_gateway_rest_api.rest_api.id}",
            "response_type": rtype,
            "response_templates": spec["ResponseTemplates"],
            **({"status_code": str(spec["StatusCode"])} if "StatusCode" in spec else {}),
        }
        for rtype, spec in GATEWAY_RESPONSES.items()
    }
    override["aws_api_gateway_deployment"] = {
        "rest_api": {
            "depends_on": [
                f"aws_api_gateway_gateway_response.{rtype.lower()}" for rtype in GATEWAY_RESPONSES
            ]
        }
    }
    locals_override = override.pop("locals", None)
    stack = {
        "variable": VARIABLES,
        "locals": LOCALS,
        "data": {
            "aws_availability_zones": {"available": {"state": "available"}},
            "aws_secretsmanager_random_password": {
                "idempotency": {"password_length": 64, "exclude_punctuation": True},
                "api_key": {"password_length": 64, "exclude_punctuation": True},
            },
        },
        "resource": resources,
        "output": {name: {"value": value} for name, value in OUTPUTS.items()},
    }
    over: dict[str, Any] = {
        # ElastiCache Serverless needs the AWS provider 5.29 or newer.
        "terraform": {"required_providers": {"aws": {"version": ">= 5.29, < 6"}}},
        "resource": {k: v for k, v in override.items() if v},
    }
    if locals_override:
        over["locals"] = locals_override
    return stack, over
