"""The server's root and the shape of every JSON answer (issue 29, "small surprises")."""

from __future__ import annotations

import httpx

from tests.support import LiveServer


def test_the_root_points_to_the_dashboard_the_api_and_health(live_server: LiveServer) -> None:
    with live_server.client() as client:
        index = client.get("/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("application/json")
        body = index.json()
        for name in ("dashboard", "openapi", "health"):
            assert client.get(body[name]).status_code == 200, name
        assert client.get(body["api"] + "/openapi.json").status_code == 200


def test_every_json_answer_ends_with_a_newline(live_server: LiveServer, api: httpx.Client) -> None:
    with live_server.client() as anonymous:
        answers = [
            anonymous.get("/"),
            anonymous.get("/health"),
            anonymous.get("/api/v1/payments"),  # 401, the contract's error body
            anonymous.get("/no/such/route"),
        ]
    answers += [
        api.get("/api/v1/payments", params={"limit": 1}),
        api.post("/api/v1/payments", json={"amount": -1}),  # 400
    ]
    for answer in answers:
        assert answer.content.endswith(b"}\n"), (answer.request.url, answer.content[-20:])
        answer.json()  # and it is still one JSON document
