from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.cluster_unavailable import ClusterUnavailable
from ...models.forbidden import Forbidden
from ...models.http_api_decode_error import HttpApiDecodeError
from ...models.payload_too_large import PayloadTooLarge
from ...models.pool_not_found import PoolNotFound
from ...models.pool_scale import PoolScale
from ...models.scale_pool_request import ScalePoolRequest
from ...models.unauthorized import Unauthorized
from ...types import Response


def _get_kwargs(
    namespace: str,
    name: str,
    *,
    body: ScalePoolRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/pools/{namespace}/{name}/scale".format(
            namespace=quote(str(namespace), safe=""),
            name=quote(str(name), safe=""),
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
    | Forbidden
    | HttpApiDecodeError
    | PayloadTooLarge
    | PoolNotFound
    | PoolScale
    | Unauthorized
    | None
):
    if response.status_code == 200:
        response_200 = PoolScale.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = HttpApiDecodeError.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Unauthorized.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Forbidden.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = PoolNotFound.from_dict(response.json())

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
    ClusterUnavailable | Forbidden | HttpApiDecodeError | PayloadTooLarge | PoolNotFound | PoolScale | Unauthorized
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    namespace: str,
    name: str,
    *,
    client: AuthenticatedClient,
    body: ScalePoolRequest,
) -> Response[
    ClusterUnavailable | Forbidden | HttpApiDecodeError | PayloadTooLarge | PoolNotFound | PoolScale | Unauthorized
]:
    """Set the pool's warm idle target through its scale subresource (as HPA or KEDA would).

    Args:
        namespace (str): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-',
            starting and ending alphanumeric.
        name (str): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-',
            starting and ending alphanumeric.
        body (ScalePoolRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClusterUnavailable | Forbidden | HttpApiDecodeError | PayloadTooLarge | PoolNotFound | PoolScale | Unauthorized]
    """

    kwargs = _get_kwargs(
        namespace=namespace,
        name=name,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    namespace: str,
    name: str,
    *,
    client: AuthenticatedClient,
    body: ScalePoolRequest,
) -> (
    ClusterUnavailable
    | Forbidden
    | HttpApiDecodeError
    | PayloadTooLarge
    | PoolNotFound
    | PoolScale
    | Unauthorized
    | None
):
    """Set the pool's warm idle target through its scale subresource (as HPA or KEDA would).

    Args:
        namespace (str): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-',
            starting and ending alphanumeric.
        name (str): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-',
            starting and ending alphanumeric.
        body (ScalePoolRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClusterUnavailable | Forbidden | HttpApiDecodeError | PayloadTooLarge | PoolNotFound | PoolScale | Unauthorized
    """

    return sync_detailed(
        namespace=namespace,
        name=name,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    namespace: str,
    name: str,
    *,
    client: AuthenticatedClient,
    body: ScalePoolRequest,
) -> Response[
    ClusterUnavailable | Forbidden | HttpApiDecodeError | PayloadTooLarge | PoolNotFound | PoolScale | Unauthorized
]:
    """Set the pool's warm idle target through its scale subresource (as HPA or KEDA would).

    Args:
        namespace (str): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-',
            starting and ending alphanumeric.
        name (str): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-',
            starting and ending alphanumeric.
        body (ScalePoolRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClusterUnavailable | Forbidden | HttpApiDecodeError | PayloadTooLarge | PoolNotFound | PoolScale | Unauthorized]
    """

    kwargs = _get_kwargs(
        namespace=namespace,
        name=name,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    namespace: str,
    name: str,
    *,
    client: AuthenticatedClient,
    body: ScalePoolRequest,
) -> (
    ClusterUnavailable
    | Forbidden
    | HttpApiDecodeError
    | PayloadTooLarge
    | PoolNotFound
    | PoolScale
    | Unauthorized
    | None
):
    """Set the pool's warm idle target through its scale subresource (as HPA or KEDA would).

    Args:
        namespace (str): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-',
            starting and ending alphanumeric.
        name (str): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-',
            starting and ending alphanumeric.
        body (ScalePoolRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClusterUnavailable | Forbidden | HttpApiDecodeError | PayloadTooLarge | PoolNotFound | PoolScale | Unauthorized
    """

    return (
        await asyncio_detailed(
            namespace=namespace,
            name=name,
            client=client,
            body=body,
        )
    ).parsed
