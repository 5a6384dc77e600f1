from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.cluster_unavailable import ClusterUnavailable
from ...models.http_api_decode_error import HttpApiDecodeError
from ...models.payload_too_large import PayloadTooLarge
from ...models.sandbox_not_found import SandboxNotFound
from ...models.terminal_grant import TerminalGrant
from ...models.unauthorized import Unauthorized
from ...types import Response


def _get_kwargs(
    id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/sandboxes/{id}/terminal-token".format(
            id=quote(str(id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | SandboxNotFound | TerminalGrant | Unauthorized | None:
    if response.status_code == 201:
        response_201 = TerminalGrant.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = HttpApiDecodeError.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Unauthorized.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = SandboxNotFound.from_dict(response.json())

        return response_404

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
    ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | SandboxNotFound | TerminalGrant | Unauthorized
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
) -> Response[
    ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | SandboxNotFound | TerminalGrant | Unauthorized
]:
    """A single-use, short-lived token that opens one terminal (a shell under a TTY) in the sandbox through
    wsproxy's WebSocket at `path`.

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | SandboxNotFound | TerminalGrant | Unauthorized]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient,
) -> ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | SandboxNotFound | TerminalGrant | Unauthorized | None:
    """A single-use, short-lived token that opens one terminal (a shell under a TTY) in the sandbox through
    wsproxy's WebSocket at `path`.

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | SandboxNotFound | TerminalGrant | Unauthorized
    """

    return sync_detailed(
        id=id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
) -> Response[
    ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | SandboxNotFound | TerminalGrant | Unauthorized
]:
    """A single-use, short-lived token that opens one terminal (a shell under a TTY) in the sandbox through
    wsproxy's WebSocket at `path`.

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | SandboxNotFound | TerminalGrant | Unauthorized]
    """

    kwargs = _get_kwargs(
        id=id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
) -> ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | SandboxNotFound | TerminalGrant | Unauthorized | None:
    """A single-use, short-lived token that opens one terminal (a shell under a TTY) in the sandbox through
    wsproxy's WebSocket at `path`.

    Args:
        id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | SandboxNotFound | TerminalGrant | Unauthorized
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
        )
    ).parsed
