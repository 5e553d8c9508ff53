"""Operations: one log group per function, alarms to an SNS topic, and a dashboard.

The handlers already emit CloudWatch embedded metrics (namespace `PaymentGateway`,
dimensions Handler and Stage, `chalicelib/metrics.py`); the alarms and the dashboard
read those, API Gateway's 5XXError and Lambda's Errors.
"""

from __future__ import annotations

import json
from typing import Any

from infra.aws.cfn import att, if_, ref, skip, sub, tags

NAMESPACE = "PaymentGateway"
STAGE = "prod"
HAS_ALARM_EMAIL = "HasAlarmEmail"
LOG_RETENTION_DAYS = 90
BATCH_METRICS = ("Claimed", "Succeeded", "Failed", "Retried", "DeadLettered", "Swept")


def parameters() -> dict[str, Any]:
    return {
        "AlarmEmail": {
            "Type": "String",
            "Default": "",
            "Description": "Subscribe this address to the alarms (confirm the e-mail AWS sends)",
        },
        "QueueLagAlarmSeconds": {"Type": "Number", "Default": 120, "MinValue": 10},
        "UnknownOutcomesAlarmCount": {"Type": "Number", "Default": 5, "MinValue": 0},
        "Api5xxAlarmRate": {
            "Type": "Number",
            "Default": 0.01,
            "Description": "Share of API answers that are 5xx (0.01 = 1 %) that raises the alarm",
        },
    }


def conditions() -> dict[str, Any]:
    return {HAS_ALARM_EMAIL: {"Fn::Not": [{"Fn::Equals": [ref("AlarmEmail"), ""]}]}}


def log_group_name(short_name: str) -> dict[str, Any]:
    return sub(f"/aws/lambda/${{AWS::StackName}}-{short_name}")


def log_group(short_name: str) -> dict[str, Any]:
    return {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Metadata": skip(
            ("CKV_AWS_158", "Logs never hold card data, API keys or secrets (see STYLE/DESIGN)"),
        ),
        "Properties": {
            "LogGroupName": log_group_name(short_name),
            "RetentionInDays": LOG_RETENTION_DAYS,
            "Tags": tags("operations"),
        },
    }


def _emf_alarm(metric: str, statistic: str, threshold: Any, periods: int, description: str):  # type: ignore[no-untyped-def]
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmDescription": description,
            "Namespace": NAMESPACE,
            "MetricName": metric,
            "Dimensions": [
                {"Name": "Handler", "Value": "process_payments"},
                {"Name": "Stage", "Value": STAGE},
            ],
            "Statistic": statistic,
            "Period": 60,
            "EvaluationPeriods": periods,
            "DatapointsToAlarm": periods,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [ref("AlarmTopic")],
            "OKActions": [ref("AlarmTopic")],
        },
    }


def resources(error_alarm_functions: dict[str, str]) -> dict[str, Any]:
    """Topic, alarms and dashboard; `error_alarm_functions`: logical id -> short name."""
    out: dict[str, Any] = {
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "KmsMasterKeyId": "alias/aws/sns",
                "Tags": tags("operations"),
            },
        },
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": HAS_ALARM_EMAIL,
            "Properties": {
                "TopicArn": ref("AlarmTopic"),
                "Protocol": "email",
                "Endpoint": ref("AlarmEmail"),
            },
        },
        "DeadLetteredAlarm": _emf_alarm(
            "DeadLettered", "Sum", 0, 1, "Payments went to the dead-letter stream: dlq-list"
        ),
        "QueueLagAlarm": _emf_alarm(
            "QueueLag",
            "Maximum",
            ref("QueueLagAlarmSeconds"),
            5,
            "The oldest queued payment has waited too long for 5 minutes",
        ),
        "UnknownOutcomesAlarm": _emf_alarm(
            "UnknownOutcomes",
            "Sum",
            ref("UnknownOutcomesAlarmCount"),
            5,
            "Acquirer calls with unknown outcome (timeouts, resets, 5xx) for 5 minutes",
        ),
        "Api5xxAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": "The API answers 5xx above the allowed rate",
                "Namespace": "AWS/ApiGateway",
                "MetricName": "5XXError",
                "Dimensions": [
                    {"Name": "ApiName", "Value": sub("${AWS::StackName}-api")},
                    {"Name": "Stage", "Value": "api"},
                ],
                "Statistic": "Average",
                "Period": 60,
                "EvaluationPeriods": 5,
                "DatapointsToAlarm": 3,
                "Threshold": ref("Api5xxAlarmRate"),
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [ref("AlarmTopic")],
                "OKActions": [ref("AlarmTopic")],
            },
        },
        "Dashboard": {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {
                "DashboardName": sub("${AWS::StackName}"),
                "DashboardBody": sub(json.dumps(dashboard_body(error_alarm_functions))),
            },
        },
    }
    for logical, short_name in error_alarm_functions.items():
        out[f"{logical}ErrorsAlarm"] = {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": f"{short_name} failed in 2 of the last 3 minutes",
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [
                    {"Name": "FunctionName", "Value": sub(f"${{AWS::StackName}}-{short_name}")}
                ],
                "Statistic": "Sum",
                "Period": 60,
                "EvaluationPeriods": 3,
                "DatapointsToAlarm": 2,
                "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold",
                "TreatMissingData": "notBreaching",
                "AlarmActions": [ref("AlarmTopic")],
                "OKActions": [ref("AlarmTopic")],
            },
        }
    return out


def _emf(metric: str, stat: str = "Sum") -> list[Any]:
    return [NAMESPACE, metric, "Handler", "process_payments", "Stage", STAGE, {"stat": stat}]


def dashboard_body(error_alarm_functions: dict[str, str]) -> dict[str, Any]:
    """The dashboard (a template for Fn::Sub: ${AWS::Region}, ${AWS::StackName})."""

    def widget(title: str, metrics: list[list[Any]], x: int, y: int) -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": "${AWS::Region}",
                "stat": "Sum",
                "period": 60,
                "view": "timeSeries",
                "metrics": metrics,
            },
        }

    return {
        "widgets": [
            widget("Payments processed per minute", [_emf(m) for m in BATCH_METRICS], 0, 0),
            widget(
                "Queue lag (s) and batch duration (ms)",
                [_emf("QueueLag", "Maximum"), _emf("BatchDuration", "p99")],
                12,
                0,
            ),
            widget(
                "Refunds and unknown outcomes",
                [_emf("RefundsSucceeded"), _emf("RefundsFailed"), _emf("UnknownOutcomes")],
                0,
                6,
            ),
            widget(
                "API: requests, 4xx, 5xx, latency p99",
                [
                    [
                        "AWS/ApiGateway",
                        m,
                        "ApiName",
                        "${AWS::StackName}-api",
                        "Stage",
                        "api",
                        {"stat": s},
                    ]
                    for m, s in (
                        ("Count", "Sum"),
                        ("4XXError", "Sum"),
                        ("5XXError", "Sum"),
                        ("Latency", "p99"),
                    )
                ],
                12,
                6,
            ),
            widget(
                "Function errors",
                [
                    ["AWS/Lambda", "Errors", "FunctionName", f"${{AWS::StackName}}-{short}"]
                    for short in error_alarm_functions.values()
                ],
                0,
                12,
            ),
        ]
    }


def outputs() -> dict[str, Any]:
    return {
        "AlarmTopicArn": {"Value": ref("AlarmTopic")},
        "DashboardName": {"Value": ref("Dashboard")},
    }


__all__ = ["att", "if_"]
