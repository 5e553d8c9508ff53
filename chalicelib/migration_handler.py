"""The migration function: `chalicelib.migrations` applied as part of every deploy.

Invoked two ways:
- by a CloudFormation custom resource (`Custom::DatabaseMigrations`): the event has a
  `RequestType` and a pre-signed `ResponseURL`, and the answer is a PUT of SUCCESS or
  FAILED there. FAILED fails (and rolls back) the deploy. Delete does nothing: a
  rollback or a stack deletion never drops data.
- directly, by Terraform's `aws_lambda_invocation` or an operator: it returns the
  versions applied, and an error becomes the invocation's function error, which fails
  `terraform apply`.

The migrations and their runner are part of the runtime package (`chalicelib/migrations/`),
so the deploy applies exactly the migrations of the code it ships. The runner's advisory
lock makes concurrent or repeated runs safe.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

log = logging.getLogger(__name__)
PHYSICAL_RESOURCE_ID = "gateway-database-migrations"
RESPONSE_TIMEOUT_S = 20


def apply_migrations() -> list[str]:
    """Apply pending migrations to the stage's database; the versions applied."""
    from chalicelib import settings
    from chalicelib.migrations import migrate

    return migrate(settings.database_url())


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Entry point of the migration function (see the module docstring)."""
    if "RequestType" not in event:
        applied = apply_migrations()
        log.info("migrations applied: %s", applied)
        return {"migrations_applied": applied}
    return handle_custom_resource(event, context)


def handle_custom_resource(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer CloudFormation; never raise, or the deploy would wait for an hour."""
    response: dict[str, Any] = {
        "Status": "SUCCESS",
        "PhysicalResourceId": event.get("PhysicalResourceId", PHYSICAL_RESOURCE_ID),
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "Data": {"Applied": ""},
    }
    log_stream = getattr(context, "log_stream_name", "the function's log")
    try:
        if event["RequestType"] in ("Create", "Update"):
            applied = apply_migrations()
            response["Data"] = {"Applied": ",".join(applied)}
            log.info("migrations applied: %s", applied)
    except Exception as exc:
        log.exception("migrations failed")
        # The type only: a driver message may quote connection details.
        response["Status"] = "FAILED"
        response["Reason"] = f"Migrations failed ({type(exc).__name__}); see {log_stream}"
    send_response(event["ResponseURL"], response)
    return response


def send_response(url: str, response: dict[str, Any]) -> None:
    """PUT the answer to CloudFormation's pre-signed URL (content type must be empty)."""
    if not url.startswith("https://"):
        raise ValueError("CloudFormation's ResponseURL must be https")
    body = json.dumps(response).encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is CloudFormation's https URL
        url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
    )
    # nosec B310: the scheme is checked above (https only, no file: or custom schemes)
    with urllib.request.urlopen(request, timeout=RESPONSE_TIMEOUT_S) as answer:  # noqa: S310  # nosec B310
        answer.read()
