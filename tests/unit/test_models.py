"""Request validation rules, without I/O: each bad input maps to the contract's error."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.api.pipeline import validate
from chalicelib.errors import GatewayError
from chalicelib.models.payments import CreatePaymentRequest, card_brand, luhn_valid

VALID = {"order_id": "order_1", "amount": 50000, "currency": "INR", "method": "upi"}
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2099, "cvc": "123"}


def error_of(body: dict) -> tuple[int, str, str | None]:
    with pytest.raises(GatewayError) as info:
        validate(CreatePaymentRequest, body)
    return info.value.status, info.value.code, info.value.param


def test_valid_minimal_body_is_accepted_and_currency_upper_cased() -> None:
    parsed = validate(CreatePaymentRequest, {**VALID, "currency": "inr"})
    assert parsed.currency == "INR"
    assert parsed.metadata == {}


@pytest.mark.parametrize(
    ("change", "code", "param"),
    [
        ({"amount": 0}, "parameter_invalid", "amount"),
        ({"amount": -5}, "parameter_invalid", "amount"),
        ({"amount": 100_000_000_000}, "parameter_invalid", "amount"),
        ({"amount": 2**64}, "parameter_invalid", "amount"),
        ({"amount": 500.0}, "parameter_invalid", "amount"),
        ({"amount": "500"}, "parameter_invalid", "amount"),
        ({"amount": True}, "parameter_invalid", "amount"),
        ({"amount": None}, "parameter_invalid", "amount"),
        ({"currency": "XYZ"}, "currency_not_supported", "currency"),
        ({"currency": "usdollar"}, "parameter_invalid", "currency"),
        ({"currency": 840}, "parameter_invalid", "currency"),
        ({"order_id": ""}, "parameter_invalid", "order_id"),
        ({"order_id": "x" * 65}, "parameter_invalid", "order_id"),
        ({"order_id": "order 1"}, "parameter_invalid", "order_id"),
        ({"order_id": "ordér"}, "parameter_invalid", "order_id"),
        ({"order_id": "order\n"}, "parameter_invalid", "order_id"),
        ({"order_id": "a\x00b"}, "parameter_invalid", "order_id"),
        ({"order_id": 123}, "parameter_invalid", "order_id"),
        ({"method": "cash"}, "parameter_invalid", "method"),
        ({"vpa": "no-at-sign"}, "parameter_invalid", "vpa"),
        ({"vpa": "a@"}, "parameter_invalid", "vpa"),
        ({"vpa": "x" * 250 + "@upi.x"}, "parameter_invalid", "vpa"),
        ({"description": "d" * 256}, "parameter_invalid", "description"),
        ({"description": "nul\x00byte"}, "parameter_invalid", "description"),
        ({"metadata": {"k": "a\x00"}}, "parameter_invalid", "metadata.k"),
        ({"metadata": {"k": 1}}, "parameter_invalid", "metadata.k"),
        ({"metadata": {"k": "v" * 501}}, "parameter_invalid", "metadata.k"),
        ({"metadata": {"k" * 41: "v"}}, "parameter_invalid", "metadata." + "k" * 41),
        ({"metadata": {f"k{i}": "v" for i in range(21)}}, "parameter_invalid", "metadata"),
        ({"metadata": ["a"]}, "parameter_invalid", "metadata"),
        ({"surprise": 1}, "parameter_unknown", "surprise"),
        ({"card": CARD}, "parameter_invalid", "card"),
        ({"bank": "HDFC"}, "parameter_invalid", "bank"),
        ({"wallet": "paytm"}, "parameter_invalid", "wallet"),
    ],
)
def test_each_invalid_field_names_its_param(change: dict, code: str, param: str) -> None:
    assert error_of({**VALID, **change}) == (400, code, param)


@pytest.mark.parametrize("field", ["order_id", "amount", "currency", "method"])
def test_each_required_field_missing(field: str) -> None:
    body = {k: v for k, v in VALID.items() if k != field}
    assert error_of(body) == (400, "parameter_missing", field)


@pytest.mark.parametrize(
    ("card", "param"),
    [
        ({**CARD, "number": "4242424242424241"}, "card.number"),  # fails Luhn
        ({**CARD, "number": "42424242424"}, "card.number"),  # 11 digits
        ({**CARD, "number": "4" * 20}, "card.number"),
        ({**CARD, "number": 4242424242424242}, "card.number"),
        ({**CARD, "number": "4242 4242 4242 4242"}, "card.number"),
        ({**CARD, "exp_month": 13}, "card.exp_month"),
        ({**CARD, "exp_month": 0}, "card.exp_month"),
        ({**CARD, "exp_year": 2020}, "card.exp_year"),
        ({**CARD, "cvc": "12"}, "card.cvc"),
        ({**CARD, "cvc": "12345"}, "card.cvc"),
        ({**CARD, "cvc": 123}, "card.cvc"),
        ({k: v for k, v in CARD.items() if k != "cvc"}, "card.cvc"),
        ({**CARD, "pin": "1"}, "card.pin"),
    ],
)
def test_card_rules(card: dict, param: str) -> None:
    status, _code, got = error_of({**VALID, "method": "card", "card": card})
    assert (status, got) == (400, param)


@pytest.mark.parametrize(
    ("today", "expired", "valid"),
    [
        # (the frozen date, a card that expired last month, one that expires this month)
        (datetime(2027, 6, 15, tzinfo=UTC), (5, 2027), (6, 2027)),
        (datetime(2027, 1, 10, tzinfo=UTC), (12, 2026), (1, 2027)),  # January too
        (datetime(2026, 12, 31, 23, 59, tzinfo=UTC), (11, 2026), (12, 2026)),
    ],
)
def test_card_expired_this_year_names_the_month(
    today: datetime,
    expired: tuple[int, int],
    valid: tuple[int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The clock is frozen: every month, January included, is checked, never skipped."""
    from chalicelib.models import payments as payment_models

    monkeypatch.setattr(payment_models, "utcnow", lambda: today)
    month, year = expired
    card = {**CARD, "exp_year": year, "exp_month": month}
    param = "card.exp_month" if year == today.year else "card.exp_year"
    assert error_of({**VALID, "method": "card", "card": card}) == (400, "parameter_invalid", param)
    month, year = valid
    parsed = validate(
        CreatePaymentRequest,
        {**VALID, "method": "card", "card": {**CARD, "exp_year": year, "exp_month": month}},
    )
    assert parsed.card is not None


def test_card_repr_never_shows_the_number() -> None:
    parsed = validate(CreatePaymentRequest, {**VALID, "method": "card", "card": CARD})
    assert "4242424242424242" not in repr(parsed)
    assert "123" not in repr(parsed.card)


@pytest.mark.parametrize(
    ("method", "detail", "value"),
    [("upi", "vpa", "a@b"), ("netbanking", "bank", "HDFC_1"), ("wallet", "wallet", "paytm")],
)
def test_matching_method_details_are_accepted(method: str, detail: str, value: str) -> None:
    validate(CreatePaymentRequest, {**VALID, "method": method, detail: value})


@pytest.mark.parametrize(
    ("number", "valid"),
    [("4242424242424242", True), ("5555555555554444", True), ("4242424242424241", False)],
)
def test_luhn(number: str, valid: bool) -> None:
    assert luhn_valid(number) is valid


def test_card_brand() -> None:
    assert card_brand("4242424242424242") == "visa"
    assert card_brand("5555555555554444") == "mastercard"
    assert card_brand("378282246310005") == "amex"
