from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.cluster_unavailable import ClusterUnavailable
from ...models.extend_timeout_request import ExtendTimeoutRequest
from ...models.http_api_decode_error import HttpApiDecodeError
from ...models.invalid_request import InvalidRequest
from ...models.payload_too_large import PayloadTooLarge
from ...models.sandbox import Sandbox
from ...models.sandbox_not_found import SandboxNotFound
from ...models.unauthorized import Unauthorized
from ...types import Response


def _get_kwargs(
    id: str,
    *,
    body: ExtendTimeoutRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/sandboxes/{id}/timeout".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    ClusterUnavailable
    | HttpApiDecodeError
    | InvalidRequest
    | PayloadTooLarge
    | Sandbox
    | SandboxNotFound
    | Unauthorized
    | None
):
    if response.status_code == 200:
        response_200 = Sandbox.from_dict(response.json())

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
    ClusterUnavailable
    | HttpApiDecodeError
    | InvalidRequest
    | PayloadTooLarge
    | Sandbox
    | SandboxNotFound
    | Unauthorized
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
    body: ExtendTimeoutRequest,
) -> Response[
    ClusterUnavailable
    | HttpApiDecodeError
    | InvalidRequest
    | PayloadTooLarge
    | Sandbox
    | SandboxNotFound
    | Unauthorized
]:
    """Set the sandbox to expire `timeoutSeconds` from now (capped by the pool).

    Args:
        id (str):
        body (ExtendTimeoutRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | Sandbox | SandboxNotFound | Unauthorized]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    body: ExtendTimeoutRequest,
) -> (
    ClusterUnavailable
    | HttpApiDecodeError
    | InvalidRequest
    | PayloadTooLarge
    | Sandbox
    | SandboxNotFound
    | Unauthorized
    | None
):
    """Set the sandbox to expire `timeoutSeconds` from now (capped by the pool).

    Args:
        id (str):
        body (ExtendTimeoutRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | Sandbox | SandboxNotFound | Unauthorized
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: ExtendTimeoutRequest,
) -> Response[
    ClusterUnavailable
    | HttpApiDecodeError
    | InvalidRequest
    | PayloadTooLarge
    | Sandbox
    | SandboxNotFound
    | Unauthorized
]:
    """Set the sandbox to expire `timeoutSeconds` from now (capped by the pool).

    Args:
        id (str):
        body (ExtendTimeoutRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | Sandbox | SandboxNotFound | Unauthorized]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    body: ExtendTimeoutRequest,
) -> (
    ClusterUnavailable
    | HttpApiDecodeError
    | InvalidRequest
    | PayloadTooLarge
    | Sandbox
    | SandboxNotFound
    | Unauthorized
    | None
):
    """Set the sandbox to expire `timeoutSeconds` from now (capped by the pool).

    Args:
        id (str):
        body (ExtendTimeoutRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClusterUnavailable | HttpApiDecodeError | InvalidRequest | PayloadTooLarge | Sandbox | SandboxNotFound | Unauthorized
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
