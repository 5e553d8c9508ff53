"""The static templates of the AWS stack agree with `infra/aws/functions.py`.

Each function's name lives in two places: its entry (whose grant on its own log group
needs the name) and the templates (its FunctionName, log group, role reference). These
checks run without `chalice package`: a function renamed or added in one place and not
the other fails here, before the slower packaging tests.
"""

from __future__ import annotations

import json
from typing import Any

from infra.aws import TEMPLATES, functions, template


def _sam_functions() -> dict[str, dict[str, Any]]:
    """{short name: resource} of the fragment's function parts (FunctionName given)."""
    found = {}
    for resource in template("sam.json")["Resources"].values():
        name = resource.get("Properties", {}).get("FunctionName", {})
        if "Role" in resource.get("Properties", {}):
            prefix = "${AWS::StackName}-"
            assert name["Fn::Sub"].startswith(prefix)
            found[name["Fn::Sub"][len(prefix) :]] = resource
    return found


def test_every_entry_has_its_sam_part_and_log_group() -> None:
    sam = template("sam.json")["Resources"]
    parts = _sam_functions()
    assert set(parts) == {fn.short_name for fn in functions.FUNCTIONS.values()}
    for short, part in parts.items():
        (log_group,) = part["DependsOn"]
        assert sam[log_group]["Type"] == "AWS::Logs::LogGroup", short
        assert sam[log_group]["Properties"]["LogGroupName"] == {
            "Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-{short}"
        }
        role = part["Properties"]["Role"]["Fn::GetAtt"]
        assert role[1] == "Arn" and role[0] not in sam, "roles are made from sam-function.json"


def test_every_entry_has_its_terraform_part_and_log_group() -> None:
    stack = template("stack.tf.json")["resource"]
    blocks = template("stack_override.tf.json")["resource"]["aws_lambda_function"]
    assert set(blocks) == set(functions.FUNCTIONS)
    for name, fn in functions.FUNCTIONS.items():
        block = blocks[name]
        log_group = fn.short_name.replace("-", "_")  # what the grant's Refs name
        assert block["function_name"] == f"${{var.stack_name}}-{fn.short_name}", name
        assert block["depends_on"] == [f"aws_cloudwatch_log_group.{log_group}"], name
        assert block["role"] == f"${{aws_iam_role.{name}_role.arn}}", name
        assert stack["aws_cloudwatch_log_group"][log_group]["name"] == (
            f"/aws/lambda/${{var.stack_name}}-{fn.short_name}"
        )


def test_the_templates_hold_no_policy_a_function_gets_from_its_grants() -> None:
    """Permissions of the functions come from functions.py only."""
    sam = template("sam.json")["Resources"]
    for logical, resource in sam.items():
        if resource.get("Type") == "AWS::IAM::Role":
            assert logical == "DatabaseProxyRole", f"{logical}: a role belongs to functions.py"
    assert "Policies" not in json.dumps(template("sam-function.json"))
    assert "aws_iam_role_policy" not in template("stack.tf.json")["resource"]
    assert "aws_iam_role_policy" not in template("stack_override.tf.json")["resource"]


def test_every_template_is_json() -> None:
    for path in TEMPLATES.glob("*.json"):
        json.loads(path.read_text())
