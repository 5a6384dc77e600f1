from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.cluster_unavailable import ClusterUnavailable
from ...models.http_api_decode_error import HttpApiDecodeError
from ...models.payload_too_large import PayloadTooLarge
from ...models.template_summary import TemplateSummary
from ...models.unauthorized import Unauthorized
from ...types import Response


def _get_kwargs() -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v1/templates",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | Unauthorized | list[TemplateSummary] | None:
    if response.status_code == 200:
        response_200 = []
        _response_200 = response.json()
        for response_200_item_data in _response_200:
            response_200_item = TemplateSummary.from_dict(response_200_item_data)

            response_200.append(response_200_item)

        return response_200

    if response.status_code == 400:
        response_400 = HttpApiDecodeError.from_dict(response.json())

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
) -> Response[ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | Unauthorized | list[TemplateSummary]]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | Unauthorized | list[TemplateSummary]]:
    """The SandboxTemplates of the pools the key may allocate from (an admin key: every template).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | Unauthorized | list[TemplateSummary]]
    """

    kwargs = _get_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
) -> ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | Unauthorized | list[TemplateSummary] | None:
    """The SandboxTemplates of the pools the key may allocate from (an admin key: every template).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | Unauthorized | list[TemplateSummary]
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
) -> Response[ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | Unauthorized | list[TemplateSummary]]:
    """The SandboxTemplates of the pools the key may allocate from (an admin key: every template).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | Unauthorized | list[TemplateSummary]]
    """

    kwargs = _get_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
) -> ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | Unauthorized | list[TemplateSummary] | None:
    """The SandboxTemplates of the pools the key may allocate from (an admin key: every template).

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        ClusterUnavailable | HttpApiDecodeError | PayloadTooLarge | Unauthorized | list[TemplateSummary]
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
