"""Stateful resources: Aurora PostgreSQL Serverless v2 behind RDS Proxy, ElastiCache
Serverless (Valkey, TLS), the webhook-secrets KMS key and the reconciliation bucket.

Postgres and Redis are created unless `ExistingDatabaseSecretArn` /
`ExistingRedisSecretArn` are given. The master secret is managed by RDS (username and
password); the functions read it and connect to the proxy endpoint (`DATABASE_HOST`)
with TLS required. The Redis URL holds no credential (access is by security group), so
its secret is written by the template from the cache's endpoint.
"""

from __future__ import annotations

from typing import Any

from infra.aws import functions
from infra.aws.cfn import att, if_, ref, skip, sub, tags
from infra.aws.cfn_network import NO_EGRESS, SUBNET_IDS, _from_group, _group

CREATE_DATABASE = "CreateDatabase"
CREATE_CACHE = "CreateCache"
DATABASE_NAME = "gateway"
DATABASE_SECRET = if_(
    CREATE_DATABASE,
    att("DatabaseCluster", "MasterUserSecret.SecretArn"),
    ref("ExistingDatabaseSecretArn"),
)
REDIS_SECRET = if_(CREATE_CACHE, ref("RedisUrlSecret"), ref("ExistingRedisSecretArn"))
# The migrations wait for the database to take connections through the proxy.
DATABASE_READY = if_(
    CREATE_DATABASE,
    {"Fn::Join": [",", [ref("DatabaseProxyTargetGroup"), ref("DatabaseInstance")]]},
    "existing",
)
RETAIN = {"DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot"}


def parameters() -> dict[str, Any]:
    return {
        "ExistingDatabaseSecretArn": {
            "Type": "String",
            "Default": "",
            "Description": "Use this Postgres: a secret (URL, or RDS JSON) instead of Aurora",
        },
        "ExistingDatabaseHost": {
            "Type": "String",
            "Default": "",
            "Description": "With ExistingDatabaseSecretArn: host to use if the secret has none",
        },
        "ExistingRedisSecretArn": {
            "Type": "String",
            "Default": "",
            "Description": "Use this Redis: a secret holding its rediss:// URL",
        },
        "DatabaseMinCapacity": {"Type": "Number", "Default": 0.5, "MinValue": 0.5},
        "DatabaseMaxCapacity": {"Type": "Number", "Default": 4, "MinValue": 1},
        "CacheMaxDataGb": {"Type": "Number", "Default": 1, "MinValue": 1},
        "CacheMaxEcpuPerSecond": {"Type": "Number", "Default": 5000, "MinValue": 1000},
    }


def conditions() -> dict[str, Any]:
    return {
        CREATE_DATABASE: {"Fn::Equals": [ref("ExistingDatabaseSecretArn"), ""]},
        CREATE_CACHE: {"Fn::Equals": [ref("ExistingRedisSecretArn"), ""]},
    }


def _database() -> dict[str, Any]:
    return {
        "DatabaseSecurityGroup": {
            **_group(
                "Aurora: Postgres from RDS Proxy only",
                [_from_group(5432, "DatabaseProxySecurityGroup", "Postgres from RDS Proxy")],
                NO_EGRESS,
            ),
            "Condition": CREATE_DATABASE,
        },
        "DatabaseProxySecurityGroup": {
            **_group(
                "RDS Proxy: Postgres from the functions, out to Aurora",
                [_from_group(5432, "FunctionSecurityGroup", "Postgres from the functions")],
                [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 5432,
                        "ToPort": 5432,
                        "CidrIp": "0.0.0.0/0",
                        "Description": "Postgres to Aurora (its group admits only the proxy)",
                    }
                ],
            ),
            "Condition": CREATE_DATABASE,
        },
        "DatabaseSubnetGroup": {
            "Type": "AWS::RDS::DBSubnetGroup",
            "Condition": CREATE_DATABASE,
            "Properties": {
                "DBSubnetGroupDescription": "Private subnets of the gateway",
                "SubnetIds": SUBNET_IDS,
                "Tags": tags("database"),
            },
        },
        "DatabaseCluster": {
            "Type": "AWS::RDS::DBCluster",
            "Condition": CREATE_DATABASE,
            **RETAIN,
            "Properties": {
                "Engine": "aurora-postgresql",
                "EngineVersion": "16.11",
                "DatabaseName": DATABASE_NAME,
                "MasterUsername": "gateway",
                "ManageMasterUserPassword": True,
                "ServerlessV2ScalingConfiguration": {
                    "MinCapacity": ref("DatabaseMinCapacity"),
                    "MaxCapacity": ref("DatabaseMaxCapacity"),
                },
                "DBSubnetGroupName": ref("DatabaseSubnetGroup"),
                "VpcSecurityGroupIds": [ref("DatabaseSecurityGroup")],
                "StorageEncrypted": True,
                "DeletionProtection": True,
                "BackupRetentionPeriod": 14,
                "CopyTagsToSnapshot": True,
                "EnableCloudwatchLogsExports": ["postgresql"],
                "EnableIAMDatabaseAuthentication": True,
                "Tags": tags("database"),
            },
        },
        "DatabaseInstance": {
            "Type": "AWS::RDS::DBInstance",
            "Condition": CREATE_DATABASE,
            "Metadata": skip(
                ("CKV_AWS_118", "Enhanced monitoring costs extra; Performance Insights is on"),
            ),
            "Properties": {
                "Engine": "aurora-postgresql",
                "DBClusterIdentifier": ref("DatabaseCluster"),
                "DBInstanceClass": "db.serverless",
                "PubliclyAccessible": False,
                "AutoMinorVersionUpgrade": True,
                "EnablePerformanceInsights": True,
                "Tags": tags("database"),
            },
        },
        "DatabaseProxyRole": {
            "Type": "AWS::IAM::Role",
            "Condition": CREATE_DATABASE,
            "Properties": {
                "AssumeRolePolicyDocument": _assume("rds.amazonaws.com"),
                "Policies": [
                    {
                        "PolicyName": "ReadMasterSecret",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "secretsmanager:GetSecretValue",
                                    "Resource": att(
                                        "DatabaseCluster", "MasterUserSecret.SecretArn"
                                    ),
                                }
                            ],
                        },
                    }
                ],
            },
        },
        "DatabaseProxy": {
            "Type": "AWS::RDS::DBProxy",
            "Condition": CREATE_DATABASE,
            "Properties": {
                "DBProxyName": sub("${AWS::StackName}-db"),
                "EngineFamily": "POSTGRESQL",
                "RequireTLS": True,
                "IdleClientTimeout": 900,
                "RoleArn": att("DatabaseProxyRole", "Arn"),
                "VpcSubnetIds": SUBNET_IDS,
                "VpcSecurityGroupIds": [ref("DatabaseProxySecurityGroup")],
                "Auth": [
                    {
                        "AuthScheme": "SECRETS",
                        "IAMAuth": "DISABLED",
                        "SecretArn": att("DatabaseCluster", "MasterUserSecret.SecretArn"),
                    }
                ],
            },
        },
        "DatabaseProxyTargetGroup": {
            "Type": "AWS::RDS::DBProxyTargetGroup",
            "Condition": CREATE_DATABASE,
            "Properties": {
                "DBProxyName": ref("DatabaseProxy"),
                "TargetGroupName": "default",
                "DBClusterIdentifiers": [ref("DatabaseCluster")],
                # Lambda may scale to any concurrency: the proxy keeps Aurora's side at
                # 90 % of max_connections and queues borrowers up to 30 s.
                "ConnectionPoolConfigurationInfo": {
                    "MaxConnectionsPercent": 90,
                    "MaxIdleConnectionsPercent": 50,
                    "ConnectionBorrowTimeout": 30,
                },
            },
        },
    }


def _assume(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }


def _cache() -> dict[str, Any]:
    return {
        "CacheSecurityGroup": {
            **_group(
                "ElastiCache Serverless: Redis (TLS) from the functions",
                [
                    {
                        **_from_group(6379, "FunctionSecurityGroup", "Redis from the functions"),
                        "ToPort": 6380,
                    },
                ],
                NO_EGRESS,
            ),
            "Condition": CREATE_CACHE,
        },
        "Cache": {
            "Type": "AWS::ElastiCache::ServerlessCache",
            "Condition": CREATE_CACHE,
            "Properties": {
                "ServerlessCacheName": sub("${AWS::StackName}-cache"),
                "Engine": "valkey",
                "MajorEngineVersion": "8",
                "SecurityGroupIds": [ref("CacheSecurityGroup")],
                "SubnetIds": SUBNET_IDS,
                "CacheUsageLimits": {
                    "DataStorage": {"Maximum": ref("CacheMaxDataGb"), "Unit": "GB"},
                    "ECPUPerSecond": {"Maximum": ref("CacheMaxEcpuPerSecond")},
                },
                "Tags": tags("cache"),
            },
        },
        "RedisUrlSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Condition": CREATE_CACHE,
            "Metadata": skip(
                ("CKV_AWS_149", "Holds the cache's URL, no credential: the default key is enough"),
                ("CKV2_AWS_57", "Holds no credential, so there is nothing to rotate"),
            ),
            "Properties": {
                "Description": "The gateway's Redis URL (TLS; no credential: security groups)",
                "SecretString": sub("rediss://${Cache.Endpoint.Address}:${Cache.Endpoint.Port}/0"),
                "Tags": tags("cache"),
            },
        },
    }


def _encryption() -> dict[str, Any]:
    return {
        "WebhookSecretsKey": {
            "Type": "AWS::KMS::Key",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Description": "Envelope key of the merchants' webhook signing secrets",
                "EnableKeyRotation": True,
                "KeySpec": "SYMMETRIC_DEFAULT",
                "KeyUsage": "ENCRYPT_DECRYPT",
                # The account's IAM decides; the function roles get exactly their action
                # (functions.py): GenerateDataKey for the API, Decrypt for deliver_webhooks.
                "KeyPolicy": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AccountIamPolicies",
                            "Effect": "Allow",
                            "Principal": {
                                "AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")
                            },
                            "Action": "kms:*",
                            "Resource": "*",
                        }
                    ],
                },
                "Tags": tags("encryption"),
            },
        },
        # The idempotency fingerprint's HMAC key (issue 11): random, made by Secrets
        # Manager, read only by the API (functions.py grant "idempotency_key").
        "IdempotencyHmacKeySecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Metadata": skip(
                ("CKV_AWS_149", "A random HMAC key; the account's default key encrypts it"),
                ("CKV2_AWS_57", "Rotating it would make 24 h of fingerprints unverifiable"),
            ),
            "Properties": {
                "Description": "HMAC key of the idempotency fingerprints (no card data)",
                "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
                "Tags": tags("encryption"),
            },
        },
        # The HMAC key of stored API and operator key hashes (issue 24), apart from the
        # fingerprints' key so that either can be rotated alone (docs/api.md). Hashes made
        # before it existed (under the idempotency key) still verify and are rehashed.
        "ApiKeyHmacKeySecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Metadata": skip(
                ("CKV_AWS_149", "A random HMAC key; the account's default key encrypts it"),
                ("CKV2_AWS_57", "Rotated by adding a key version, not by replacing the value"),
            ),
            "Properties": {
                "Description": "HMAC key of the stored API and operator key hashes",
                "GenerateSecretString": {"PasswordLength": 64, "ExcludePunctuation": True},
                "Tags": tags("encryption"),
            },
        },
        "WebhookSecretsKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": sub("alias/${AWS::StackName}-webhook-secrets"),
                "TargetKeyId": ref("WebhookSecretsKey"),
            },
        },
    }


def _reports(writer_roles: list[str]) -> dict[str, Any]:
    bucket_arn = att("ReconciliationBucket", "Arn")
    statements: list[dict[str, Any]] = [
        {
            "Sid": "TlsOnly",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, {"Fn::Join": ["", [bucket_arn, "/*"]]}],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    write_deny: dict[str, Any] = {
        "Sid": "OnlyReconciliationWrites",
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
        "Resource": {"Fn::Join": ["", [bucket_arn, "/*"]]},
    }
    if writer_roles:
        write_deny["Condition"] = {
            "ArnNotEquals": {"aws:PrincipalArn": [att(r, "Arn") for r in writer_roles]}
        }
    statements.append(write_deny)
    return {
        "ReconciliationBucket": {
            "Type": "AWS::S3::Bucket",
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
            "Metadata": skip(
                ("CKV_AWS_18", "One role writes here; CloudTrail data events are the audit log"),
            ),
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"},
                            "BucketKeyEnabled": True,
                        }
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
                "VersioningConfiguration": {"Status": "Enabled"},
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "ExpireOldVersions",
                            "Status": "Enabled",
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 400},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                        }
                    ]
                },
                "Tags": tags("reconciliation"),
            },
        },
        "ReconciliationBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref("ReconciliationBucket"),
                "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
            },
        },
    }


def resources(writer_roles: list[str]) -> dict[str, Any]:
    """All of them; `writer_roles` are the roles that may write reports."""
    return {**_database(), **_cache(), **_encryption(), **_reports(writer_roles)}


def outputs() -> dict[str, Any]:
    return {
        "DatabaseProxyEndpoint": {
            "Condition": CREATE_DATABASE,
            "Value": att("DatabaseProxy", "Endpoint"),
        },
        "CacheEndpoint": {"Condition": CREATE_CACHE, "Value": att("Cache", "Endpoint.Address")},
        "WebhookSecretsKeyArn": {"Value": att("WebhookSecretsKey", "Arn")},
        "ReconciliationBucketName": {"Value": ref("ReconciliationBucket")},
    }


def environment() -> dict[str, Any]:
    """What every function is told about these resources."""
    return {
        "DATABASE_SECRET_ID": DATABASE_SECRET,
        "DATABASE_HOST": if_(
            CREATE_DATABASE, att("DatabaseProxy", "Endpoint"), ref("ExistingDatabaseHost")
        ),
        "DATABASE_NAME": if_(CREATE_DATABASE, DATABASE_NAME, ""),
        "DATABASE_SSLMODE": "require",
        "REDIS_SECRET_ID": REDIS_SECRET,
        "WEBHOOK_SECRETS_KMS_KEY_ID": ref("WebhookSecretsKey"),
        "IDEMPOTENCY_HMAC_SECRET_ID": ref("IdempotencyHmacKeySecret"),
        "API_KEY_HMAC_SECRET_ID": ref("ApiKeyHmacKeySecret"),
        "RECONCILIATION_BUCKET": ref("ReconciliationBucket"),
    }


WEBHOOK_KMS_CONDITION = {functions.WEBHOOK_KMS_CONTEXT_KEY: functions.WEBHOOK_KMS_PURPOSE}
