"""Small helpers that spell CloudFormation intrinsic functions."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, Any]:
    return {"Ref": name}


def sub(text: str) -> dict[str, Any]:
    return {"Fn::Sub": text}


def att(resource: str, attribute: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [resource, attribute]}


def if_(condition: str, then: Any, otherwise: Any) -> dict[str, Any]:
    return {"Fn::If": [condition, then, otherwise]}


NO_VALUE = ref("AWS::NoValue")


def tags(component: str) -> list[dict[str, Any]]:
    return [
        {"Key": "Application", "Value": "payment-gateway"},
        {"Key": "Component", "Value": component},
    ]


def skip(*checks: tuple[str, str]) -> dict[str, Any]:
    """Metadata that suppresses checkov checks, each with its reason."""
    return {"checkov": {"skip": [{"id": cid, "comment": why} for cid, why in checks]}}
