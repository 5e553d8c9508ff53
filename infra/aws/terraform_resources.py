"""Terraform blocks of the network, data and operations parts (see the cfn_* modules,
whose comments say why each setting is what it is)."""

from __future__ import annotations

import json
from typing import Any

from infra.aws import cfn_operations

P = "${var.stack_name}"
ONE_IF_VPC = "${local.create_vpc ? 1 : 0}"
ONE_IF_DB = "${local.create_database ? 1 : 0}"
ONE_IF_CACHE = "${local.create_cache ? 1 : 0}"
TAGS = {"Application": "payment-gateway"}


def _rule(port: int, to: int, description: str, **source: Any) -> dict[str, Any]:
    rule = {
        "from_port": port,
        "to_port": to,
        "protocol": "tcp",
        "description": description,
        "cidr_blocks": None,
        "security_groups": None,
        "ipv6_cidr_blocks": None,
        "prefix_list_ids": None,
        "self": None,
    }
    return rule | source


def _group(description: str, ingress: list[Any], egress: list[Any], count: str | None = None):  # type: ignore[no-untyped-def]
    block: dict[str, Any] = {
        "name_prefix": f"{P}-",
        "description": description,
        "vpc_id": "${local.vpc_id}",
        "ingress": ingress,
        "egress": egress,
        "tags": TAGS,
    }
    if count:
        block["count"] = count
    return block


def network_resources() -> dict[str, Any]:
    any_or_vpc = '${local.create_vpc ? [var.vpc_cidr] : ["0.0.0.0/0"]}'
    subnets = {
        f"private_{s}": {
            "count": ONE_IF_VPC,
            "vpc_id": "${aws_vpc.vpc[0].id}",
            "availability_zone": f"${{data.aws_availability_zones.available.names[{i}]}}",
            "cidr_block": f"${{cidrsubnet(var.vpc_cidr, 4, {i})}}",
            "map_public_ip_on_launch": False,
            "tags": TAGS,
        }
        for i, s in enumerate("ab")
    }
    endpoints = {
        "s3": {
            "count": ONE_IF_VPC,
            "vpc_id": "${aws_vpc.vpc[0].id}",
            "service_name": "com.amazonaws.${data.aws_region.chalice.name}.s3",
            "vpc_endpoint_type": "Gateway",
            "route_table_ids": ["${aws_route_table.private[0].id}"],
        }
    }
    for service in ("secretsmanager", "kms"):
        endpoints[service] = {
            "count": ONE_IF_VPC,
            "vpc_id": "${aws_vpc.vpc[0].id}",
            "service_name": f"com.amazonaws.${{data.aws_region.chalice.name}}.{service}",
            "vpc_endpoint_type": "Interface",
            "private_dns_enabled": True,
            "subnet_ids": ["${aws_subnet.private_a[0].id}", "${aws_subnet.private_b[0].id}"],
            "security_group_ids": ["${aws_security_group.endpoints[0].id}"],
        }
    return {
        "aws_vpc": {
            "vpc": {
                "count": ONE_IF_VPC,
                "cidr_block": "${var.vpc_cidr}",
                "enable_dns_hostnames": True,
                "enable_dns_support": True,
                "tags": TAGS,
            }
        },
        "aws_subnet": subnets,
        "aws_route_table": {
            "private": {"count": ONE_IF_VPC, "vpc_id": "${aws_vpc.vpc[0].id}", "tags": TAGS}
        },
        "aws_route_table_association": {
            f"private_{s}": {
                "count": ONE_IF_VPC,
                "subnet_id": f"${{aws_subnet.private_{s}[0].id}}",
                "route_table_id": "${aws_route_table.private[0].id}",
            }
            for s in "ab"
        },
        "aws_vpc_endpoint": endpoints,
        "aws_security_group": {
            "functions": _group(
                "Gateway functions: out to Postgres, Redis, AWS endpoints and HTTPS",
                [],
                [
                    _rule(443, 443, "AWS APIs, webhooks and acquirers", cidr_blocks=["0.0.0.0/0"]),
                    _rule(5432, 5432, "Postgres (RDS Proxy)", cidr_blocks=any_or_vpc),
                    _rule(6379, 6380, "Redis (ElastiCache Serverless)", cidr_blocks=any_or_vpc),
                ],
            ),
            "endpoints": _group(
                "VPC endpoints: HTTPS from the gateway functions",
                [_rule(443, 443, "HTTPS", security_groups=["${aws_security_group.functions.id}"])],
                [],
                ONE_IF_VPC,
            ),
            "database": _group(
                "Aurora: Postgres from RDS Proxy only",
                [
                    _rule(
                        5432,
                        5432,
                        "Postgres",
                        security_groups=["${aws_security_group.database_proxy[0].id}"],
                    )
                ],
                [],
                ONE_IF_DB,
            ),
            "database_proxy": _group(
                "RDS Proxy: Postgres from the functions, out to Aurora",
                [
                    _rule(
                        5432,
                        5432,
                        "Postgres",
                        security_groups=["${aws_security_group.functions.id}"],
                    )
                ],
                [_rule(5432, 5432, "Postgres to Aurora", cidr_blocks=["0.0.0.0/0"])],
                ONE_IF_DB,
            ),
            "cache": _group(
                "ElastiCache Serverless: Redis (TLS) from the functions",
                [
                    _rule(
                        6379, 6380, "Redis", security_groups=["${aws_security_group.functions.id}"]
                    )
                ],
                [],
                ONE_IF_CACHE,
            ),
        },
    }


def data_resources(writer_role_arns: list[str]) -> dict[str, Any]:
    secret = "${aws_rds_cluster.database[0].master_user_secret[0].secret_arn}"  # noqa: S105
    bucket_arn = "${aws_s3_bucket.reconciliation.arn}"
    write_deny: dict[str, Any] = {
        "Sid": "OnlyReconciliationWrites",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
        "Resource": f"{bucket_arn}/*",
    }
    if writer_role_arns:
        write_deny["Condition"] = {"ArnNotEquals": {"aws:PrincipalArn": writer_role_arns}}
    bucket_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [bucket_arn, f"{bucket_arn}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            write_deny,
        ],
    }
    account_root = "arn:${data.aws_partition.chalice.partition}:iam::${data.aws_caller_identity.chalice.account_id}:root"  # noqa: E501
    return {
        "aws_db_subnet_group": {
            "database": {
                "count": ONE_IF_DB,
                "name_prefix": f"{P}-",
                "subnet_ids": "${local.subnet_ids}",
                "tags": TAGS,
            }
        },
        "aws_rds_cluster": {
            "database": {
                "count": ONE_IF_DB,
                "cluster_identifier_prefix": f"{P}-",
                "engine": "aurora-postgresql",
                "engine_mode": "provisioned",
                "engine_version": "16.11",
                "database_name": "gateway",
                "master_username": "gateway",
                "manage_master_user_password": True,
                "serverlessv2_scaling_configuration": {
                    "min_capacity": "${var.database_min_capacity}",
                    "max_capacity": "${var.database_max_capacity}",
                },
                "db_subnet_group_name": "${aws_db_subnet_group.database[0].name}",
                "vpc_security_group_ids": ["${aws_security_group.database[0].id}"],
                "storage_encrypted": True,
                "deletion_protection": True,
                "backup_retention_period": 14,
                "copy_tags_to_snapshot": True,
                "enabled_cloudwatch_logs_exports": ["postgresql"],
                "iam_database_authentication_enabled": True,
                "skip_final_snapshot": False,
                "final_snapshot_identifier": f"{P}-final",
                "tags": TAGS,
            }
        },
        "aws_rds_cluster_instance": {
            "database": {
                "count": ONE_IF_DB,
                "cluster_identifier": "${aws_rds_cluster.database[0].id}",
                "engine": "aurora-postgresql",
                "instance_class": "db.serverless",
                "publicly_accessible": False,
                "auto_minor_version_upgrade": True,
                "performance_insights_enabled": True,
                "tags": TAGS,
            }
        },
        "aws_iam_role": {
            "database_proxy": {
                "count": ONE_IF_DB,
                "name_prefix": "gateway-db-proxy-",
                "assume_role_policy": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "sts:AssumeRole",
                                "Principal": {"Service": "rds.amazonaws.com"},
                            }
                        ],
                    }
                ),
                "inline_policy": {
                    "name": "ReadMasterSecret",
                    "policy": json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "secretsmanager:GetSecretValue",
                                    "Resource": secret,
                                }
                            ],
                        }
                    ),
                },
            }
        },
        "aws_db_proxy": {
            "database": {
                "count": ONE_IF_DB,
                "name": f"{P}-db",
                "engine_family": "POSTGRESQL",
                "require_tls": True,
                "idle_client_timeout": 900,
                "role_arn": "${aws_iam_role.database_proxy[0].arn}",
                "vpc_subnet_ids": "${local.subnet_ids}",
                "vpc_security_group_ids": ["${aws_security_group.database_proxy[0].id}"],
                "auth": {"auth_scheme": "SECRETS", "iam_auth": "DISABLED", "secret_arn": secret},
            }
        },
        "aws_db_proxy_default_target_group": {
            "database": {
                "count": ONE_IF_DB,
                "db_proxy_name": "${aws_db_proxy.database[0].name}",
                "connection_pool_config": {
                    "max_connections_percent": 90,
                    "max_idle_connections_percent": 50,
                    "connection_borrow_timeout": 30,
                },
            }
        },
        "aws_db_proxy_target": {
            "database": {
                "count": ONE_IF_DB,
                "db_proxy_name": "${aws_db_proxy.database[0].name}",
                "target_group_name": "${aws_db_proxy_default_target_group.database[0].name}",
                "db_cluster_identifier": "${aws_rds_cluster.database[0].id}",
            }
        },
        "aws_elasticache_serverless_cache": {
            "cache": {
                "count": ONE_IF_CACHE,
                "name": f"{P}-cache",
                "engine": "valkey",
                "major_engine_version": "8",
                "security_group_ids": ["${aws_security_group.cache[0].id}"],
                "subnet_ids": "${local.subnet_ids}",
                "cache_usage_limits": {
                    "data_storage": {"maximum": "${var.cache_max_data_gb}", "unit": "GB"},
                    "ecpu_per_second": {"maximum": "${var.cache_max_ecpu_per_second}"},
                },
                "tags": TAGS,
            }
        },
        "aws_secretsmanager_secret": {
            "redis_url": {
                "count": ONE_IF_CACHE,
                "name_prefix": f"{P}-redis-url-",
                "description": "The gateway's Redis URL (TLS; no credential)",
            },
            "idempotency_hmac_key": {
                "name_prefix": f"{P}-idempotency-hmac-key-",
                "description": "HMAC key of the idempotency fingerprints (no card data)",
                "tags": TAGS,
            },
            "api_key_hmac_key": {
                "name_prefix": f"{P}-api-key-hmac-key-",
                "description": "HMAC key of the stored API and operator key hashes",
                "tags": TAGS,
            },
        },
        "aws_secretsmanager_secret_version": {
            "redis_url": {
                "count": ONE_IF_CACHE,
                "secret_id": "${aws_secretsmanager_secret.redis_url[0].id}",
                "secret_string": (
                    "rediss://${aws_elasticache_serverless_cache.cache[0].endpoint[0].address}"
                    ":${aws_elasticache_serverless_cache.cache[0].endpoint[0].port}/0"
                ),
            },
            "idempotency_hmac_key": {
                "secret_id": "${aws_secretsmanager_secret.idempotency_hmac_key.id}",
                "secret_string": (
                    "${data.aws_secretsmanager_random_password.idempotency.random_password}"
                ),
                # Generated once: a new value on every apply would orphan 24 h of fingerprints.
                "lifecycle": {"ignore_changes": ["secret_string"]},
            },
            "api_key_hmac_key": {
                "secret_id": "${aws_secretsmanager_secret.api_key_hmac_key.id}",
                "secret_string": (
                    "${data.aws_secretsmanager_random_password.api_key.random_password}"
                ),
                # Generated once: a new value would make every stored key hash unverifiable.
                "lifecycle": {"ignore_changes": ["secret_string"]},
            },
        },
        "aws_kms_key": {
            "webhook_secrets": {
                "description": "Envelope key of the merchants' webhook signing secrets",
                "enable_key_rotation": True,
                "key_usage": "ENCRYPT_DECRYPT",
                "customer_master_key_spec": "SYMMETRIC_DEFAULT",
                "policy": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "AccountIamPolicies",
                                "Effect": "Allow",
                                "Principal": {"AWS": account_root},
                                "Action": "kms:*",
                                "Resource": "*",
                            }
                        ],
                    }
                ),
                "lifecycle": {"prevent_destroy": True},
                "tags": TAGS,
            }
        },
        "aws_kms_alias": {
            "webhook_secrets": {
                "name": f"alias/{P}-webhook-secrets",
                "target_key_id": "${aws_kms_key.webhook_secrets.key_id}",
            }
        },
        "aws_s3_bucket": {
            "reconciliation": {
                "bucket_prefix": f"{P}-reports-",
                "lifecycle": {"prevent_destroy": True},
                "tags": TAGS,
            }
        },
        "aws_s3_bucket_server_side_encryption_configuration": {
            "reconciliation": {
                "bucket": "${aws_s3_bucket.reconciliation.id}",
                "rule": {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"},
                    "bucket_key_enabled": True,
                },
            }
        },
        "aws_s3_bucket_public_access_block": {
            "reconciliation": {
                "bucket": "${aws_s3_bucket.reconciliation.id}",
                "block_public_acls": True,
                "block_public_policy": True,
                "ignore_public_acls": True,
                "restrict_public_buckets": True,
            }
        },
        "aws_s3_bucket_ownership_controls": {
            "reconciliation": {
                "bucket": "${aws_s3_bucket.reconciliation.id}",
                "rule": {"object_ownership": "BucketOwnerEnforced"},
            }
        },
        "aws_s3_bucket_versioning": {
            "reconciliation": {
                "bucket": "${aws_s3_bucket.reconciliation.id}",
                "versioning_configuration": {"status": "Enabled"},
            }
        },
        "aws_s3_bucket_lifecycle_configuration": {
            "reconciliation": {
                "bucket": "${aws_s3_bucket.reconciliation.id}",
                "rule": {
                    "id": "ExpireOldVersions",
                    "status": "Enabled",
                    "filter": {},
                    "noncurrent_version_expiration": {"noncurrent_days": 400},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                },
            }
        },
        "aws_s3_bucket_policy": {
            "reconciliation": {
                "bucket": "${aws_s3_bucket.reconciliation.id}",
                "policy": json.dumps(bucket_policy),
            }
        },
    }


def _alarm(description: str, namespace: str, metric: str, dims: dict[str, str], **kw: Any):  # type: ignore[no-untyped-def]
    return {
        "alarm_name": f"{P}-{metric}" if "alarm_name" not in kw else kw.pop("alarm_name"),
        "alarm_description": description,
        "namespace": namespace,
        "metric_name": metric,
        "dimensions": dims,
        "period": 60,
        "comparison_operator": "GreaterThanThreshold",
        "treat_missing_data": "notBreaching",
        "alarm_actions": ["${aws_sns_topic.alarms.arn}"],
        "ok_actions": ["${aws_sns_topic.alarms.arn}"],
        **kw,
    }


def ops_resources(error_alarms: dict[str, str]) -> dict[str, Any]:
    emf = {"Handler": "process_payments", "Stage": cfn_operations.STAGE}
    ns = cfn_operations.NAMESPACE
    alarms = {
        "dead_lettered": _alarm(
            "Payments went to the dead-letter stream",
            ns,
            "DeadLettered",
            emf,
            statistic="Sum",
            threshold=0,
            evaluation_periods=1,
            datapoints_to_alarm=1,
        ),
        "queue_lag": _alarm(
            "The oldest queued payment has waited too long",
            ns,
            "QueueLag",
            emf,
            statistic="Maximum",
            threshold="${var.queue_lag_alarm_seconds}",
            evaluation_periods=5,
            datapoints_to_alarm=5,
        ),
        "unknown_outcomes": _alarm(
            "Acquirer calls with unknown outcome",
            ns,
            "UnknownOutcomes",
            emf,
            statistic="Sum",
            threshold="${var.unknown_outcomes_alarm_count}",
            evaluation_periods=5,
            datapoints_to_alarm=5,
        ),
        "api_5xx": _alarm(
            "The API answers 5xx above the allowed rate",
            "AWS/ApiGateway",
            "5XXError",
            {"ApiName": f"{P}-api", "Stage": "api"},
            statistic="Average",
            threshold="${var.api_5xx_alarm_rate}",
            evaluation_periods=5,
            datapoints_to_alarm=3,
        ),
    }
    for name, short in error_alarms.items():
        alarms[f"{name}_errors"] = _alarm(
            f"{short} failed in 2 of the last 3 minutes",
            "AWS/Lambda",
            "Errors",
            {"FunctionName": f"{P}-{short}"},
            alarm_name=f"{P}-{short}-errors",
            statistic="Sum",
            threshold=0,
            evaluation_periods=3,
            datapoints_to_alarm=2,
        )
    body = json.dumps(cfn_operations.dashboard_body(error_alarms))
    body = body.replace("${AWS::Region}", "${data.aws_region.chalice.name}")
    body = body.replace("${AWS::StackName}", P)
    return {
        "aws_sns_topic": {
            "alarms": {
                "name_prefix": f"{P}-alarms-",
                "kms_master_key_id": "alias/aws/sns",
                "tags": TAGS,
            }
        },
        "aws_sns_topic_subscription": {
            "alarm_email": {
                "count": '${var.alarm_email == "" ? 0 : 1}',
                "topic_arn": "${aws_sns_topic.alarms.arn}",
                "protocol": "email",
                "endpoint": "${var.alarm_email}",
            }
        },
        "aws_cloudwatch_metric_alarm": alarms,
        "aws_cloudwatch_dashboard": {"gateway": {"dashboard_name": P, "dashboard_body": body}},
    }
