"""The part of the generated SAM template that the AWS emulator (moto) can deploy.

`emulated_subset(sam)` keeps the resources whose type moto's CloudFormation implements
(`EMULATED`) and drops the rest (`NOT_EMULATED`, each with its reason); every type of
the template must be in one of the two, so a new resource type forces a decision.
A reference from a kept resource to a dropped one (a role's grant on the database's
secret, say) becomes a stand-in ARN built with `Fn::Sub`, so that the kept resource
still declares exactly what the template declares, with that one value in place.

`Resolver` evaluates the template's intrinsic functions the way CloudFormation does
(Ref, GetAtt, Sub, Join, If, Select, conditions), from the stack the emulator created,
so a test can compare what the emulator holds with what the template declares.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from collections.abc import Callable
from typing import Any

#: Types of the generated template that moto 5's CloudFormation creates.
EMULATED = frozenset(
    {
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::VPCEndpoint",
        "AWS::RDS::DBSubnetGroup",
        "AWS::IAM::Role",
        "AWS::KMS::Key",
        "AWS::KMS::Alias",
        "AWS::S3::Bucket",
        "AWS::SNS::Topic",
        "AWS::CloudWatch::Dashboard",
        "AWS::Logs::LogGroup",
    }
)
#: Types it does not create (moto has no CloudFormation model for them), and the rest.
NOT_EMULATED = {
    "AWS::Serverless::Function": "Lambda code needs Docker to run in moto",
    "AWS::Serverless::Api": "SAM transform: moto does not expand it",
    "AWS::Lambda::Permission": "refers to the functions",
    "Custom::DatabaseMigrations": "invokes the migration function",
    "AWS::RDS::DBCluster": "no moto CloudFormation model",
    "AWS::RDS::DBInstance": "an Aurora instance of the cluster above",
    "AWS::RDS::DBProxy": "no moto CloudFormation model",
    "AWS::RDS::DBProxyTargetGroup": "no moto CloudFormation model",
    "AWS::ElastiCache::ServerlessCache": "no moto CloudFormation model",
    "AWS::SecretsManager::Secret": "no moto CloudFormation model",
    "AWS::CloudWatch::Alarm": "no moto CloudFormation model",
    "AWS::S3::BucketPolicy": "no moto CloudFormation model",
    "AWS::SNS::Subscription": "no moto CloudFormation model",
}
NO_VALUE = object()


def _moto_kms_key(resource: dict[str, Any]) -> None:
    """moto's KMS model reads a key's Tags in the API's shape (TagKey/TagValue), not
    CloudFormation's (Key/Value), and keeps a KeyPolicy object as it is where its API
    expects JSON text: the same tags in its spelling, the same policy as JSON text
    (Fn::ToJsonString, which moto evaluates)."""
    props = resource["Properties"]
    props["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props.get("Tags", [])]
    props["KeyPolicy"] = {"Fn::ToJsonString": props["KeyPolicy"]}


def cidr(ip_block: str, count: int, cidr_bits: int) -> list[str]:
    """CloudFormation's Fn::Cidr: the first `count` subnets with `cidr_bits` host bits."""
    network = ipaddress.ip_network(ip_block)
    prefix = network.max_prefixlen - int(cidr_bits)
    subnets = network.subnets(new_prefix=prefix)
    return [str(next(subnets)) for _ in range(int(count))]


def _evaluate_cidr(node: Any, parameters: dict[str, str]) -> Any:
    """moto has no Fn::Cidr: evaluate it here, from the deploy's parameters."""
    if isinstance(node, list):
        return [_evaluate_cidr(item, parameters) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Fn::Cidr"}:
        block, count, bits = node["Fn::Cidr"]
        if isinstance(block, dict):
            block = parameters[block["Ref"]]
        return cidr(block, count, bits)
    return {key: _evaluate_cidr(value, parameters) for key, value in node.items()}


#: Emulator quirks, by type: the resource as moto needs it, the same declaration.
QUIRKS: dict[str, Callable[[dict[str, Any]], None]] = {"AWS::KMS::Key": _moto_kms_key}


def stand_in(logical_id: str, resource_type: str, attribute: str | None) -> dict[str, str]:
    """The ARN-shaped value a kept resource gets in place of a dropped one's."""
    service = resource_type.split("::")[1].lower()
    name = f"{logical_id}/{attribute}" if attribute else logical_id
    arn = f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}"
    return {"Fn::Sub": f"{arn}:stand-in:{name}"}


def _replace_dropped(node: Any, dropped: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_replace_dropped(item, dropped) for item in node]
    if not isinstance(node, dict):
        return node
    if set(node) == {"Ref"} and node["Ref"] in dropped:
        return stand_in(node["Ref"], dropped[node["Ref"]], None)
    if set(node) == {"Fn::GetAtt"}:
        logical, attribute = node["Fn::GetAtt"]
        if logical in dropped:
            return stand_in(logical, dropped[logical], attribute)
    return {key: _replace_dropped(value, dropped) for key, value in node.items()}


def emulated_subset(sam: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """The template with only the resources the emulator creates (see module docstring),
    for a deploy with these parameters (the rest take their defaults)."""
    unknown = {r["Type"] for r in sam["Resources"].values()} - EMULATED - set(NOT_EMULATED)
    assert not unknown, f"decide whether the emulator deploys {sorted(unknown)}"
    dropped = {k: r["Type"] for k, r in sam["Resources"].items() if r["Type"] not in EMULATED}
    resources = {}
    for logical, resource in sam["Resources"].items():
        if logical in dropped:
            continue
        kept = _replace_dropped(copy.deepcopy(resource), dropped)
        values = {
            k: str(parameters.get(k, v.get("Default", ""))) for k, v in sam["Parameters"].items()
        }
        kept = _evaluate_cidr(kept, values)
        kept.pop("Metadata", None)  # checkov's suppressions
        if kept["Type"] in QUIRKS:
            QUIRKS[kept["Type"]](kept)
        depends = kept.pop("DependsOn", [])
        depends = [
            d for d in ([depends] if isinstance(depends, str) else depends) if d not in dropped
        ]
        if depends:
            kept["DependsOn"] = depends
        resources[logical] = kept
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": copy.deepcopy(sam["Parameters"]),
        "Conditions": copy.deepcopy(sam.get("Conditions", {})),
        "Resources": resources,
    }


class Resolver:
    """CloudFormation's intrinsic functions over one deployed stack."""

    def __init__(
        self,
        template: dict[str, Any],
        parameters: dict[str, str],
        physical_ids: dict[str, str],
        pseudo: dict[str, str],
        get_att: Callable[[str, str], str],
    ) -> None:
        self.template = template
        self.parameters = {
            name: str(parameters.get(name, spec.get("Default", "")))
            for name, spec in template["Parameters"].items()
        }
        self.physical_ids = physical_ids
        self.pseudo = pseudo
        self.get_att = get_att

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.template["Conditions"][name]))

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        for table in (self.pseudo, self.parameters, self.physical_ids):
            if name in table:
                return table[name]
        raise KeyError(f"Ref to {name}")

    def _sub(self, text: str, local: dict[str, Any]) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in local:
                return str(self.resolve(local[name]))
            if "." in name and not name.startswith("AWS::"):
                logical, attribute = name.split(".", 1)
                return self.get_att(logical, attribute)
            return str(self._ref(name))

        return re.sub(r"\$\{([^}!][^}]*)\}", one, text)

    def resolve(self, node: Any) -> Any:
        """`node` with every intrinsic function evaluated; AWS::NoValue entries removed."""
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical, attribute)
            if key == "Fn::Sub":
                text, local = (arg, {}) if isinstance(arg, str) else arg
                return self._sub(text, local)
            if key == "Fn::Join":
                return arg[0].join(str(v) for v in self.resolve(arg[1]))
            if key == "Fn::If":
                name, if_true, if_false = arg
                return self.resolve(if_true if self.condition(name) else if_false)
            if key == "Fn::ToJsonString":
                return json.dumps(self.resolve(arg))
            if key == "Fn::Cidr":
                return cidr(*self.resolve(arg))
            if key == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if key == "Fn::Equals":
                left, right = (self.resolve(v) for v in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self.resolve(arg[0])
            if key == "Condition":
                return self.condition(arg)
            assert not key.startswith("Fn::"), f"{key} is not resolved here"
        resolved = {k: self.resolve(v) for k, v in node.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}
