from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.batch_create_sandboxes_request_metadata import BatchCreateSandboxesRequestMetadata


T = TypeVar("T", bound="BatchCreateSandboxesRequest")


@_attrs_define
class BatchCreateSandboxesRequest:
    """
    Attributes:
        pool (str): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-', starting and ending
            alphanumeric.
        count (int): an integer
        namespace (str | Unset): A lowercase RFC 1123 label: at most 63 characters of a-z, 0-9 and '-', starting and
            ending alphanumeric.
        timeout_seconds (int | Unset): an integer
        metadata (BatchCreateSandboxesRequestMetadata | Unset):
        runtime (str | Unset): A runtime of the pool's template (template.runtimes[].name): the sandbox runs that
            runtime's image. Exclusive with image.
        image (str | Unset): A container image for the sandbox (any image with a shell works with the data plane): the
            warm Pod switches to it in place. Exclusive with runtime.
        wait (bool | Unset): When the sandbox must switch image: true (default) answers once it is Ready on that image
            (bounded by the pool's startupTimeoutSeconds); false answers at once with ready: false, and GET tells when it is
            ready.
    """

    pool: str
    count: int
    namespace: str | Unset = UNSET
    timeout_seconds: int | Unset = UNSET
    metadata: BatchCreateSandboxesRequestMetadata | Unset = UNSET
    runtime: str | Unset = UNSET
    image: str | Unset = UNSET
    wait: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        pool = self.pool

        count = self.count

        namespace = self.namespace

        timeout_seconds = self.timeout_seconds

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        runtime = self.runtime

        image = self.image

        wait = self.wait

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "pool": pool,
                "count": count,
            }
        )
        if namespace is not UNSET:
            field_dict["namespace"] = namespace
        if timeout_seconds is not UNSET:
            field_dict["timeoutSeconds"] = timeout_seconds
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if runtime is not UNSET:
            field_dict["runtime"] = runtime
        if image is not UNSET:
            field_dict["image"] = image
        if wait is not UNSET:
            field_dict["wait"] = wait

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.batch_create_sandboxes_request_metadata import BatchCreateSandboxesRequestMetadata  # noqa: PLC0415

        d = dict(src_dict)
        pool = d.pop("pool")

        count = d.pop("count")

        namespace = d.pop("namespace", UNSET)

        timeout_seconds = d.pop("timeoutSeconds", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: BatchCreateSandboxesRequestMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = BatchCreateSandboxesRequestMetadata.from_dict(_metadata)

        runtime = d.pop("runtime", UNSET)

        image = d.pop("image", UNSET)

        wait = d.pop("wait", UNSET)

        batch_create_sandboxes_request = cls(
            pool=pool,
            count=count,
            namespace=namespace,
            timeout_seconds=timeout_seconds,
            metadata=metadata,
            runtime=runtime,
            image=image,
            wait=wait,
        )

        return batch_create_sandboxes_request
