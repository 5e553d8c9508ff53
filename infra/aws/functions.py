"""Each Lambda function of the app and exactly what it may do: one entry per function.

The one source of every function's permissions, for both formats: `make package` reads
the functions Chalice generated and gives each a role whose policy is made here; a
function without an entry fails the package, so a new function cannot ship with more
(or less) than it was given. A grant names a need ("read the database secret");
`policy_document()` turns it into IAM, with the resources named the way the format
names them (`Refs`). Everything else about the stack is in `templates/`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The encryption context the webhook-secret code must pass to KMS: the API may only
# make data keys, and deliver_webhooks may only decrypt, under this purpose.
WEBHOOK_KMS_CONTEXT_KEY = "kms:EncryptionContext:purpose"
WEBHOOK_KMS_PURPOSE = "webhook-signing-secret"


@dataclass(frozen=True)
class Function:
    """One function's grants; its name is `<stack>-<short_name>` (log group, alarms)."""

    short_name: str
    grants: tuple[str, ...]


FUNCTIONS: dict[str, Function] = {
    "api_handler": Function(
        "api", ("database", "redis", "idempotency_key", "webhook_secrets_encrypt")
    ),
    "process_payments": Function("process-payments", ("database", "redis")),
    "deliver_webhooks": Function("deliver-webhooks", ("database", "webhook_secrets_decrypt")),
    "prune_idempotency_keys": Function("prune-idempotency-keys", ("database",)),
    "expire_authorizations": Function("expire-authorizations", ("database", "redis")),
    "reconcile_settlements": Function("reconcile-settlements", ("database", "reports_write")),
    "migrate_database": Function("migrate-database", ("database",)),
}

# Every function: its own log group, and the network interfaces Lambda makes in the VPC.
COMMON_GRANTS = ("own_logs", "vpc_interfaces")


@dataclass(frozen=True)
class Refs:
    """How a template names the resources grants point at (CloudFormation or Terraform)."""

    database_secret: Any
    redis_secret: Any
    idempotency_secret: Any
    api_key_secret: Any
    webhook_key: Any
    reports_bucket_arn: Any
    log_group_arn: Any  # this function's log group


VPC_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
]


def _join(refs: Refs, arn: Any, suffix: str) -> Any:
    if isinstance(arn, str):  # Terraform interpolation
        return arn[:-1] + suffix + "}" if arn.endswith("}") else arn + suffix
    return {"Fn::Join": ["", [arn, suffix]]}


def grant_statements(grant: str, refs: Refs) -> list[dict[str, Any]]:
    """The IAM statements of one grant."""
    webhook_condition = {"StringEquals": {WEBHOOK_KMS_CONTEXT_KEY: WEBHOOK_KMS_PURPOSE}}
    table: dict[str, list[dict[str, Any]]] = {
        "database": [
            {
                "Sid": "ReadDatabaseSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": refs.database_secret,
            }
        ],
        "redis": [
            {
                "Sid": "ReadRedisSecret",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": refs.redis_secret,
            }
        ],
        "idempotency_key": [
            {
                "Sid": "ReadIdempotencyHmacKey",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": refs.idempotency_secret,
            },
            {
                "Sid": "ReadApiKeyHmacKey",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": refs.api_key_secret,
            },
        ],
        "webhook_secrets_encrypt": [
            {
                "Sid": "EncryptWebhookSecrets",
                "Effect": "Allow",
                "Action": "kms:GenerateDataKey",
                "Resource": refs.webhook_key,
                "Condition": webhook_condition,
            }
        ],
        "webhook_secrets_decrypt": [
            {
                "Sid": "DecryptWebhookSecrets",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": refs.webhook_key,
                "Condition": webhook_condition,
            }
        ],
        "reports_write": [
            {
                "Sid": "WriteReconciliationReports",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": _join(refs, refs.reports_bucket_arn, "/*"),
            }
        ],
        "own_logs": [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": _join(refs, refs.log_group_arn, ":*"),
            }
        ],
        # EC2 has no narrower resource for these: the one Resource "*" of every role.
        "vpc_interfaces": [
            {
                "Sid": "VpcNetworkInterfaces",
                "Effect": "Allow",
                "Action": VPC_ACTIONS,
                "Resource": "*",
            }
        ],
    }
    return table[grant]


def policy_document(function: Function, refs: Refs) -> dict[str, Any]:
    """The whole policy of one function's role."""
    statements = []
    for grant in (*function.grants, *COMMON_GRANTS):
        statements += grant_statements(grant, refs)
    return {"Version": "2012-10-17", "Statement": statements}


def function_for(name: str) -> Function:
    """The entry of a function Chalice generated; fails for a function without one."""
    try:
        return FUNCTIONS[name]
    except KeyError:
        raise KeyError(
            f"function {name!r} has no entry in infra/aws/functions.py FUNCTIONS: "
            "give it its grants there"
        ) from None


def report_writers() -> list[str]:
    """The functions whose role may write to the reconciliation bucket."""
    return [name for name, fn in FUNCTIONS.items() if "reports_write" in fn.grants]
