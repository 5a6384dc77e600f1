from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.batch_create_sandboxes_request import BatchCreateSandboxesRequest
from ...models.capacity_unavailable import CapacityUnavailable
from ...models.cluster_unavailable import ClusterUnavailable
from ...models.http_api_decode_error import HttpApiDecodeError
from ...models.image_not_allowed import ImageNotAllowed
from ...models.invalid_request import InvalidRequest
from ...models.payload_too_large import PayloadTooLarge
from ...models.pool_not_found import PoolNotFound
from ...models.quota_exceeded import QuotaExceeded
from ...models.sandbox_batch import SandboxBatch
from ...models.sandbox_image_failed import SandboxImageFailed
from ...models.sandbox_startup_timeout import SandboxStartupTimeout
from ...models.too_many_waiting import TooManyWaiting
from ...models.unauthorized import Unauthorized
from ...types import Response


def _get_kwargs(
    *,
    body: BatchCreateSandboxesRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v1/sandboxes/batch",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> (
    CapacityUnavailable
    | ClusterUnavailable
    | HttpApiDecodeError
    | InvalidRequest
    | ImageNotAllowed
    | PayloadTooLarge
    | PoolNotFound
    | QuotaExceeded
    | TooManyWaiting
    | SandboxBatch
    | SandboxImageFailed
    | SandboxStartupTimeout
    | Unauthorized
    | None
):
    if response.status_code == 201:
        response_201 = SandboxBatch.from_dict(response.json())

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
        response_403 = ImageNotAllowed.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = PoolNotFound.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = PayloadTooLarge.from_dict(response.json())

        return response_413

    if response.status_code == 422:
        response_422 = SandboxImageFailed.from_dict(response.json())

        return response_422

    if response.status_code == 429:

        def _parse_response_429(data: object) -> QuotaExceeded | TooManyWaiting:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_429_type_0 = TooManyWaiting.from_dict(data)

                return response_429_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_429_type_1 = QuotaExceeded.from_dict(data)

            return response_429_type_1

        response_429 = _parse_response_429(response.json())

        return response_429

    if response.status_code == 503:

        def _parse_response_503(data: object) -> CapacityUnavailable | ClusterUnavailable:
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                response_503_type_0 = ClusterUnavailable.from_dict(data)

                return response_503_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            response_503_type_1 = CapacityUnavailable.from_dict(data)

            return response_503_type_1

        response_503 = _parse_response_503(response.json())

        return response_503

    if response.status_code == 504:
        response_504 = SandboxStartupTimeout.from_dict(response.json())

        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[
    CapacityUnavailable
    | ClusterUnavailable
    | HttpApiDecodeError
    | InvalidRequest
    | ImageNotAllowed
    | PayloadTooLarge
    | PoolNotFound
    | QuotaExceeded
    | TooManyWaiting
    | SandboxBatch
    | SandboxImageFailed
    | SandboxStartupTimeout
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
    body: BatchCreateSandboxesRequest,
) -> Response[
    CapacityUnavailable
    | ClusterUnavailable
    | HttpApiDecodeError
    | InvalidRequest
    | ImageNotAllowed
    | PayloadTooLarge
    | PoolNotFound
    | QuotaExceeded
    | TooManyWaiting
    | SandboxBatch
    | SandboxImageFailed
    | SandboxStartupTimeout
    | Unauthorized
]:
    """Allocate `count` sandboxes at once, all or none (for RL rollouts).

    Args:
        body (BatchCreateSandboxesRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CapacityUnavailable | ClusterUnavailable | HttpApiDecodeError | InvalidRequest | ImageNotAllowed | PayloadTooLarge | PoolNotFound | QuotaExceeded | TooManyWaiting | SandboxBatch | SandboxImageFailed | SandboxStartupTimeout | Unauthorized]
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
    body: BatchCreateSandboxesRequest,
) -> (
    CapacityUnavailable
    | ClusterUnavailable
    | HttpApiDecodeError
    | InvalidRequest
    | ImageNotAllowed
    | PayloadTooLarge
    | PoolNotFound
    | QuotaExceeded
    | TooManyWaiting
    | SandboxBatch
    | SandboxImageFailed
    | SandboxStartupTimeout
    | Unauthorized
    | None
):
    """Allocate `count` sandboxes at once, all or none (for RL rollouts).

    Args:
        body (BatchCreateSandboxesRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CapacityUnavailable | ClusterUnavailable | HttpApiDecodeError | InvalidRequest | ImageNotAllowed | PayloadTooLarge | PoolNotFound | QuotaExceeded | TooManyWaiting | SandboxBatch | SandboxImageFailed | SandboxStartupTimeout | Unauthorized
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchCreateSandboxesRequest,
) -> Response[
    CapacityUnavailable
    | ClusterUnavailable
    | HttpApiDecodeError
    | InvalidRequest
    | ImageNotAllowed
    | PayloadTooLarge
    | PoolNotFound
    | QuotaExceeded
    | TooManyWaiting
    | SandboxBatch
    | SandboxImageFailed
    | SandboxStartupTimeout
    | Unauthorized
]:
    """Allocate `count` sandboxes at once, all or none (for RL rollouts).

    Args:
        body (BatchCreateSandboxesRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CapacityUnavailable | ClusterUnavailable | HttpApiDecodeError | InvalidRequest | ImageNotAllowed | PayloadTooLarge | PoolNotFound | QuotaExceeded | TooManyWaiting | SandboxBatch | SandboxImageFailed | SandboxStartupTimeout | Unauthorized]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: BatchCreateSandboxesRequest,
) -> (
    CapacityUnavailable
    | ClusterUnavailable
    | HttpApiDecodeError
    | InvalidRequest
    | ImageNotAllowed
    | PayloadTooLarge
    | PoolNotFound
    | QuotaExceeded
    | TooManyWaiting
    | SandboxBatch
    | SandboxImageFailed
    | SandboxStartupTimeout
    | Unauthorized
    | None
):
    """Allocate `count` sandboxes at once, all or none (for RL rollouts).

    Args:
        body (BatchCreateSandboxesRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CapacityUnavailable | ClusterUnavailable | HttpApiDecodeError | InvalidRequest | ImageNotAllowed | PayloadTooLarge | PoolNotFound | QuotaExceeded | TooManyWaiting | SandboxBatch | SandboxImageFailed | SandboxStartupTimeout | Unauthorized
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
