"""The production stack on AWS: the template pieces `make package` adds to Chalice's output.

`functions.py` holds what each function may do; `cfn_*.py` build the CloudFormation
(SAM) resources and `terraform*.py` the same in Terraform.
"""
