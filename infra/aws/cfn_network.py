"""The network: a VPC with private subnets in two zones, security groups, VPC endpoints.

Created unless `ExistingVpcId` is given (then `ExistingSubnetIds` are used, and the
security groups are made in that VPC). Secrets Manager and KMS are reached through
interface endpoints and S3 (custom resource answers, reports) through a gateway
endpoint, so the functions need no NAT for AWS APIs. Webhooks and acquirers are on the
internet: docs/deploy.md shows the NAT to add for them.
"""

from __future__ import annotations

from typing import Any

from infra.aws.cfn import if_, ref, sub, tags

CREATE_VPC = "CreateVpc"
VPC_ID = if_(CREATE_VPC, ref("Vpc"), ref("ExistingVpcId"))
SUBNET_IDS = if_(
    CREATE_VPC, [ref("PrivateSubnetA"), ref("PrivateSubnetB")], ref("ExistingSubnetIds")
)
INTERFACE_ENDPOINTS = {"SecretsManagerEndpoint": "secretsmanager", "KmsEndpoint": "kms"}


def parameters() -> dict[str, Any]:
    return {
        "ExistingVpcId": {
            "Type": "String",
            "Default": "",
            "Description": "Use this VPC instead of creating one (then give ExistingSubnetIds)",
        },
        "ExistingSubnetIds": {
            "Type": "CommaDelimitedList",
            "Default": "",
            "Description": "Private subnets of ExistingVpcId in two zones, with endpoints or NAT",
        },
        "VpcCidr": {"Type": "String", "Default": "10.40.0.0/16", "AllowedPattern": r"^[0-9./]+$"},
    }


def conditions() -> dict[str, Any]:
    return {CREATE_VPC: {"Fn::Equals": [ref("ExistingVpcId"), ""]}}


def _subnet(index: int) -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::Subnet",
        "Condition": CREATE_VPC,
        "Properties": {
            "VpcId": ref("Vpc"),
            "AvailabilityZone": {"Fn::Select": [index, {"Fn::GetAZs": ""}]},
            "CidrBlock": {"Fn::Select": [index, {"Fn::Cidr": [ref("VpcCidr"), 4, 12]}]},
            "MapPublicIpOnLaunch": False,
            "Tags": tags("network"),
        },
    }


def _group(description: str, ingress: list[dict[str, Any]], egress: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    return {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": {
            "GroupDescription": description,
            "VpcId": VPC_ID,
            "SecurityGroupIngress": ingress,
            "SecurityGroupEgress": egress,
            "Tags": tags("network"),
        },
    }


def _from_group(port: int, group: str, description: str) -> dict[str, Any]:
    return {
        "IpProtocol": "tcp",
        "FromPort": port,
        "ToPort": port,
        "SourceSecurityGroupId": ref(group),
        "Description": description,
    }


# Egress that goes nowhere: AWS adds "all traffic out" to a group given no egress rule.
NO_EGRESS = [
    {
        "IpProtocol": "icmp",
        "FromPort": 252,
        "ToPort": 86,
        "CidrIp": "127.0.0.1/32",
        "Description": "No egress",
    }
]


def resources() -> dict[str, Any]:
    out: dict[str, Any] = {
        "Vpc": {
            "Type": "AWS::EC2::VPC",
            "Condition": CREATE_VPC,
            "Properties": {
                "CidrBlock": ref("VpcCidr"),
                "EnableDnsHostnames": True,
                "EnableDnsSupport": True,
                "Tags": tags("network"),
            },
        },
        "PrivateSubnetA": _subnet(0),
        "PrivateSubnetB": _subnet(1),
        "PrivateRouteTable": {
            "Type": "AWS::EC2::RouteTable",
            "Condition": CREATE_VPC,
            "Properties": {"VpcId": ref("Vpc"), "Tags": tags("network")},
        },
        "S3GatewayEndpoint": {
            "Type": "AWS::EC2::VPCEndpoint",
            "Condition": CREATE_VPC,
            "Properties": {
                "VpcId": ref("Vpc"),
                "ServiceName": sub("com.amazonaws.${AWS::Region}.s3"),
                "VpcEndpointType": "Gateway",
                "RouteTableIds": [ref("PrivateRouteTable")],
            },
        },
        "FunctionSecurityGroup": _group(
            "Gateway functions: out to Postgres, Redis, AWS endpoints and HTTPS",
            [],
            [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "CidrIp": "0.0.0.0/0",
                    "Description": "AWS APIs, webhooks and acquirers over HTTPS",
                },
                {
                    "IpProtocol": "tcp",
                    "FromPort": 5432,
                    "ToPort": 5432,
                    "CidrIp": {"Fn::If": [CREATE_VPC, ref("VpcCidr"), "0.0.0.0/0"]},
                    "Description": "Postgres (RDS Proxy)",
                },
                {
                    "IpProtocol": "tcp",
                    "FromPort": 6379,
                    "ToPort": 6380,
                    "CidrIp": {"Fn::If": [CREATE_VPC, ref("VpcCidr"), "0.0.0.0/0"]},
                    "Description": "Redis (ElastiCache Serverless: 6379 and 6380)",
                },
            ],
        ),
        "EndpointSecurityGroup": {
            **_group(
                "VPC endpoints: HTTPS from the gateway functions",
                [_from_group(443, "FunctionSecurityGroup", "HTTPS from the functions")],
                NO_EGRESS,
            ),
            "Condition": CREATE_VPC,
        },
    }
    out["EndpointSecurityGroup"]["Properties"]["VpcId"] = ref("Vpc")
    for logical, service in INTERFACE_ENDPOINTS.items():
        out[logical] = {
            "Type": "AWS::EC2::VPCEndpoint",
            "Condition": CREATE_VPC,
            "Properties": {
                "VpcId": ref("Vpc"),
                "ServiceName": sub(f"com.amazonaws.${{AWS::Region}}.{service}"),
                "VpcEndpointType": "Interface",
                "PrivateDnsEnabled": True,
                "SubnetIds": [ref("PrivateSubnetA"), ref("PrivateSubnetB")],
                "SecurityGroupIds": [ref("EndpointSecurityGroup")],
            },
        }
    for suffix in ("A", "B"):
        out[f"PrivateSubnet{suffix}Routes"] = {
            "Type": "AWS::EC2::SubnetRouteTableAssociation",
            "Condition": CREATE_VPC,
            "Properties": {
                "SubnetId": ref(f"PrivateSubnet{suffix}"),
                "RouteTableId": ref("PrivateRouteTable"),
            },
        }
    return out


def outputs() -> dict[str, Any]:
    return {
        "VpcId": {"Value": VPC_ID},
        "FunctionSecurityGroupId": {"Value": ref("FunctionSecurityGroup")},
        "PrivateSubnetIds": {"Value": {"Fn::Join": [",", SUBNET_IDS]}},
    }


def vpc_config() -> dict[str, Any]:
    return {"SubnetIds": SUBNET_IDS, "SecurityGroupIds": [ref("FunctionSecurityGroup")]}
