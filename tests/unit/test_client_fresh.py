"""clients/python is what `make client` generates from today's OpenAPI document."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra import client


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client generated now, from the document the code builds."""
    output = tmp_path_factory.mktemp("client") / "python"
    client.generate(output)
    return output


def test_the_committed_client_is_generated_from_the_current_document(fresh: Path) -> None:
    assert "gateway_client/api/payments/create_payment.py" in client.files(fresh)
    stale = client.differences(fresh, client.OUTPUT)
    assert not stale, f"clients/python is stale (run `make client` and commit): {stale}"


def test_a_stale_client_is_told_apart(fresh: Path, tmp_path: Path) -> None:
    """An operation renamed, a model changed: both files are named."""
    stale = tmp_path / "python"
    shutil.copytree(fresh, stale)
    payments = stale / "gateway_client" / "api" / "payments"
    (payments / "create_payment.py").rename(payments / "make_payment.py")
    model = stale / "gateway_client" / "models" / "payment.py"
    model.write_text(model.read_text().replace("amount: int", "amount: float"))
    assert client.differences(fresh, stale) == [
        "gateway_client/api/payments/create_payment.py",
        "gateway_client/api/payments/make_payment.py",
        "gateway_client/models/payment.py",
    ]
