from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.checkout_payment import CheckoutPayment
from ...models.confirm_request_type_0 import ConfirmRequestType0
from ...models.confirm_request_type_1 import ConfirmRequestType1
from ...models.error_response import ErrorResponse
from ...types import Response


def _get_kwargs(
    link_id: str,
    *,
    body: ConfirmRequestType0 | ConfirmRequestType1,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/pay/{link_id}/confirm".format(
            link_id=quote(str(link_id), safe=""),
        ),
    }

    if isinstance(body, ConfirmRequestType0):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> CheckoutPayment | ErrorResponse | None:
    if response.status_code == 202:
        response_202 = CheckoutPayment.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = ErrorResponse.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorResponse.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ErrorResponse.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ErrorResponse.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = ErrorResponse.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ErrorResponse.from_dict(response.json())

        return response_415

    if response.status_code == 429:
        response_429 = ErrorResponse.from_dict(response.json())

        return response_429

    if response.status_code == 500:
        response_500 = ErrorResponse.from_dict(response.json())

        return response_500

    if response.status_code == 503:
        response_503 = ErrorResponse.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[CheckoutPayment | ErrorResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    link_id: str,
    *,
    client: AuthenticatedClient,
    body: ConfirmRequestType0 | ConfirmRequestType1,
) -> Response[CheckoutPayment | ErrorResponse]:
    """Pay a payment link with a card token or a VPA (client secret auth)

    Args:
        link_id (str):
        body (ConfirmRequestType0 | ConfirmRequestType1): POST /pay/{link_id}/confirm: exactly one
            of a card token or a VPA.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CheckoutPayment | ErrorResponse]
    """

    kwargs = _get_kwargs(
        link_id=link_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    link_id: str,
    *,
    client: AuthenticatedClient,
    body: ConfirmRequestType0 | ConfirmRequestType1,
) -> CheckoutPayment | ErrorResponse | None:
    """Pay a payment link with a card token or a VPA (client secret auth)

    Args:
        link_id (str):
        body (ConfirmRequestType0 | ConfirmRequestType1): POST /pay/{link_id}/confirm: exactly one
            of a card token or a VPA.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CheckoutPayment | ErrorResponse
    """

    return sync_detailed(
        link_id=link_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    link_id: str,
    *,
    client: AuthenticatedClient,
    body: ConfirmRequestType0 | ConfirmRequestType1,
) -> Response[CheckoutPayment | ErrorResponse]:
    """Pay a payment link with a card token or a VPA (client secret auth)

    Args:
        link_id (str):
        body (ConfirmRequestType0 | ConfirmRequestType1): POST /pay/{link_id}/confirm: exactly one
            of a card token or a VPA.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CheckoutPayment | ErrorResponse]
    """

    kwargs = _get_kwargs(
        link_id=link_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    link_id: str,
    *,
    client: AuthenticatedClient,
    body: ConfirmRequestType0 | ConfirmRequestType1,
) -> CheckoutPayment | ErrorResponse | None:
    """Pay a payment link with a card token or a VPA (client secret auth)

    Args:
        link_id (str):
        body (ConfirmRequestType0 | ConfirmRequestType1): POST /pay/{link_id}/confirm: exactly one
            of a card token or a VPA.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CheckoutPayment | ErrorResponse
    """

    return (
        await asyncio_detailed(
            link_id=link_id,
            client=client,
            body=body,
        )
    ).parsed
