"""`make webhook-receiver SECRET=whsec_...`: a webhook receiver for trying the gateway.

Listens on 127.0.0.1:9000 (`--port`), verifies each delivery's signature with the
Standard Webhooks library under the endpoint's signing secret, answers 204 to a verified
delivery (400 otherwise, so the gateway retries it on its schedule), and prints one line
per delivery: `verified evt_... payment.succeeded pay_...`, or `refused: <why>`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

MAX_BODY = 1 << 20


def handler_for(secret: str) -> type[BaseHTTPRequestHandler]:
    verifier = Webhook(secret)

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if not 0 <= length <= MAX_BODY:
                self._answer(413, "refused: body too large")
                return
            body = self.rfile.read(length)
            try:
                event = verifier.verify(body, dict(self.headers.items()))
            except WebhookVerificationError as exc:
                self._answer(400, f"refused: {exc}")
                return
            data = event.get("data", {}) if isinstance(event, dict) else {}
            self._answer(204, f"verified {event.get('id')} {event.get('type')} {data.get('id')}")

        def _answer(self, status: int, line: str) -> None:
            print(line, flush=True)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the one line per delivery is printed by `_answer`."""

    return Receiver


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument(
        "--secret", default=os.environ.get("SECRET"), help="the endpoint's signing secret"
    )
    args = parser.parse_args(argv)
    if not args.secret or not args.secret.startswith("whsec_"):
        print("give the endpoint's signing secret: SECRET=whsec_... (shown when it was created)")
        return 2
    server = ThreadingHTTPServer((args.host, args.port), handler_for(args.secret))
    print(json.dumps({"listening": f"http://{args.host}:{args.port}/hooks"}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
