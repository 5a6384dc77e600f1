from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.cluster_unavailable import ClusterUnavailable
from ...models.create_api_key_request import CreateApiKeyRequest
from ...models.created_api_key import CreatedApiKey
from ...models.forbidden import Forbidden
from ...models.http_api_decode_error import HttpApiDecodeError
from ...models.invalid_request import InvalidRequest
from ...models.payload_too_large import PayloadTooLarge
from ...models.unauthorized import Unauthorized
from ...types import Response


def _get_kwargs(
    *,
    body: CreateApiKeyRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/keys",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    ClusterUnavailable
    | CreatedApiKey
    | Forbidden
    | HttpApiDecodeError
    | InvalidRequest
    | PayloadTooLarge
    | Unauthorized
    | None
):
    if response.status_code == 201:
        response_201 = CreatedApiKey.from_dict(response.json())

        return response_201

    if response.status_code == 400:

        def _parse_response_400(data: object) -> HttpApiDecodeError | InvalidRequest:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_400_type_0 = HttpApiDecodeError.from_dict(data)

                return response_400_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_400_type_1 = InvalidRequest.from_dict(data)

            return response_400_type_1

        response_400 = _parse_response_400(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Unauthorized.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Forbidden.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = PayloadTooLarge.from_dict(response.json())

        return response_413

    if response.status_code == 503:
        response_503 = ClusterUnavailable.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[
    ClusterUnavailable
    | CreatedApiKey
    | Forbidden
    | HttpApiDecodeError
    | InvalidRequest
    | PayloadTooLarge
    | Unauthorized
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: CreateApiKeyRequest,
) -> Response[
    ClusterUnavailable
    | CreatedApiKey
    | Forbidden
    | HttpApiDecodeError
    | InvalidRequest
    | PayloadTooLarge
    | Unauthorized
]:
    """Mint an API key for a tenant. The key is in this answer only.

    Args:
        body (CreateApiKeyRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClusterUnavailable | CreatedApiKey | Forbidden | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | Unauthorized]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: CreateApiKeyRequest,
) -> (
    ClusterUnavailable
    | CreatedApiKey
    | Forbidden
    | HttpApiDecodeError
    | InvalidRequest
    | PayloadTooLarge
    | Unauthorized
    | None
):
    """Mint an API key for a tenant. The key is in this answer only.

    Args:
        body (CreateApiKeyRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClusterUnavailable | CreatedApiKey | Forbidden | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | Unauthorized
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: CreateApiKeyRequest,
) -> Response[
    ClusterUnavailable
    | CreatedApiKey
    | Forbidden
    | HttpApiDecodeError
    | InvalidRequest
    | PayloadTooLarge
    | Unauthorized
]:
    """Mint an API key for a tenant. The key is in this answer only.

    Args:
        body (CreateApiKeyRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClusterUnavailable | CreatedApiKey | Forbidden | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | Unauthorized]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: CreateApiKeyRequest,
) -> (
    ClusterUnavailable
    | CreatedApiKey
    | Forbidden
    | HttpApiDecodeError
    | InvalidRequest
    | PayloadTooLarge
    | Unauthorized
    | None
):
    """Mint an API key for a tenant. The key is in this answer only.

    Args:
        body (CreateApiKeyRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClusterUnavailable | CreatedApiKey | Forbidden | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | Unauthorized
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
