from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.cluster_unavailable import ClusterUnavailable
from ...models.http_api_decode_error import HttpApiDecodeError
from ...models.invalid_request import InvalidRequest
from ...models.payload_too_large import PayloadTooLarge
from ...models.sandbox_page import SandboxPage
from ...models.unauthorized import Unauthorized
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    namespace: str | Unset = UNSET,
    pool: str | Unset = UNSET,
    metadata: str | Unset = UNSET,
    limit: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["namespace"] = namespace

    params["pool"] = pool

    params["metadata"] = metadata

    params["limit"] = limit

    params["cursor"] = cursor

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/sandboxes",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | SandboxPage | Unauthorized | None:
    if response.status_code == 200:
        response_200 = SandboxPage.from_dict(response.json())

        return response_200

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
) -> Response[ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | SandboxPage | Unauthorized]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    namespace: str | Unset = UNSET,
    pool: str | Unset = UNSET,
    metadata: str | Unset = UNSET,
    limit: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | SandboxPage | Unauthorized]:
    """
    Args:
        namespace (str | Unset): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and
            '-', starting and ending alphanumeric.
        pool (str | Unset): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-',
            starting and ending alphanumeric.
        metadata (str | Unset): Filter: url-encoded k=v pairs joined by '&', all must match.
        limit (str | Unset): a string to be decoded into a number
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | SandboxPage | Unauthorized]
    """

    kwargs = _get_kwargs(
        namespace=namespace,
        pool=pool,
        metadata=metadata,
        limit=limit,
        cursor=cursor,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    namespace: str | Unset = UNSET,
    pool: str | Unset = UNSET,
    metadata: str | Unset = UNSET,
    limit: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | SandboxPage | Unauthorized | None:
    """
    Args:
        namespace (str | Unset): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and
            '-', starting and ending alphanumeric.
        pool (str | Unset): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-',
            starting and ending alphanumeric.
        metadata (str | Unset): Filter: url-encoded k=v pairs joined by '&', all must match.
        limit (str | Unset): a string to be decoded into a number
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | SandboxPage | Unauthorized
    """

    return sync_detailed(
        client=client,
        namespace=namespace,
        pool=pool,
        metadata=metadata,
        limit=limit,
        cursor=cursor,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    namespace: str | Unset = UNSET,
    pool: str | Unset = UNSET,
    metadata: str | Unset = UNSET,
    limit: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> Response[ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | SandboxPage | Unauthorized]:
    """
    Args:
        namespace (str | Unset): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and
            '-', starting and ending alphanumeric.
        pool (str | Unset): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-',
            starting and ending alphanumeric.
        metadata (str | Unset): Filter: url-encoded k=v pairs joined by '&', all must match.
        limit (str | Unset): a string to be decoded into a number
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | SandboxPage | Unauthorized]
    """

    kwargs = _get_kwargs(
        namespace=namespace,
        pool=pool,
        metadata=metadata,
        limit=limit,
        cursor=cursor,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    namespace: str | Unset = UNSET,
    pool: str | Unset = UNSET,
    metadata: str | Unset = UNSET,
    limit: str | Unset = UNSET,
    cursor: str | Unset = UNSET,
) -> ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | SandboxPage | Unauthorized | None:
    """
    Args:
        namespace (str | Unset): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and
            '-', starting and ending alphanumeric.
        pool (str | Unset): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-',
            starting and ending alphanumeric.
        metadata (str | Unset): Filter: url-encoded k=v pairs joined by '&', all must match.
        limit (str | Unset): a string to be decoded into a number
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | SandboxPage | Unauthorized
    """

    return (
        await asyncio_detailed(
            client=client,
            namespace=namespace,
            pool=pool,
            metadata=metadata,
            limit=limit,
            cursor=cursor,
        )
    ).parsed
