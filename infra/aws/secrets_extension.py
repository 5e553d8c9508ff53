"""The AWS Parameters and Secrets Lambda Extension's layer, for the packaged region.

Every function gets the extension as a layer, with PARAMETERS_SECRETS_EXTENSION_HTTP_PORT
set: the code then reads its secrets over HTTP from the extension's local cache instead
of through boto3, whose import and client cost most of a cold start
(`chalicelib/secret_values.py`, docs/deploy.md "The cold start under the runtime client").

AWS publishes the layer from one account per region ("Use Secrets Manager secrets in
Lambda functions", the table of ARNs); the x86_64 layer is
`AWS-Parameters-and-Secrets-Lambda-Extension`, the arm64 one the same name with
`-Arm64`. The template's parameter `SecretsExtensionLayerArn` (Terraform:
`secrets_extension_layer_arn`) defaults to the ARN below for the packaged region and
architecture; pass another (a newer version) to override it, or an empty value to
deploy without the extension (the secrets are then read through boto3). A region
missing here defaults to empty.
"""

from __future__ import annotations

#: The layer version the defaults name; check AWS's table for a newer one.
LAYER_VERSION = 12
LAYER_NAME = "AWS-Parameters-and-Secrets-Lambda-Extension"
#: The account that publishes the layer in each region (AWS's table).
ACCOUNTS = {
    "af-south-1": "317013901791",
    "ap-east-1": "768336418462",
    "ap-northeast-1": "133490724326",
    "ap-northeast-2": "738900069198",
    "ap-northeast-3": "576959938190",
    "ap-south-1": "176022468876",
    "ap-southeast-1": "044395824272",
    "ap-southeast-2": "665172237481",
    "ap-southeast-3": "490737872127",
    "ca-central-1": "200266452380",
    "eu-central-1": "187925254637",
    "eu-north-1": "427196147048",
    "eu-south-1": "325218067255",
    "eu-west-1": "015030872274",
    "eu-west-2": "133256977650",
    "eu-west-3": "780235371811",
    "me-south-1": "832021897121",
    "sa-east-1": "933737806257",
    "us-east-1": "177933569100",
    "us-east-2": "590474943231",
    "us-west-1": "997803712105",
    "us-west-2": "345057560386",
}


def layer_arn(region: str, architecture: str) -> str:
    """The layer's ARN for `region` and `architecture` ("x86_64" or "arm64"); "" where
    AWS's table names no account for the region."""
    account = ACCOUNTS.get(region)
    if account is None:
        return ""
    name = LAYER_NAME + ("-Arm64" if architecture == "arm64" else "")
    return f"arn:aws:lambda:{region}:{account}:layer:{name}:{LAYER_VERSION}"
