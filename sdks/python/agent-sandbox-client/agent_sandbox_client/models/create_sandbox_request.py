from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.create_sandbox_request_metadata import CreateSandboxRequestMetadata


T = TypeVar("T", bound="CreateSandboxRequest")


@_attrs_define
class CreateSandboxRequest:
    """
    Attributes:
        pool (str): The SandboxPool to take a warm Pod from.
        namespace (str | Unset): The pool's namespace (default: the server's).
        timeout_seconds (int | Unset): an integer
        metadata (CreateSandboxRequestMetadata | Unset):
        runtime (str | Unset): A runtime of the pool's template (template.runtimes[].name): the sandbox runs that
            runtime's image. Exclusive with image.
        image (str | Unset): A container image for the sandbox (any image with a shell works with the data plane): the
            warm Pod switches to it in place. Exclusive with runtime.
        wait (bool | Unset): When the sandbox must switch image: true (default) answers once it is Ready on that image
            (bounded by the pool's startupTimeoutSeconds); false answers at once with ready: false, and GET tells when it is
            ready.
    """

    pool: str
    namespace: str | Unset = UNSET
    timeout_seconds: int | Unset = UNSET
    metadata: CreateSandboxRequestMetadata | Unset = UNSET
    runtime: str | Unset = UNSET
    image: str | Unset = UNSET
    wait: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        pool = self.pool

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
        from ..models.create_sandbox_request_metadata import CreateSandboxRequestMetadata  # noqa: PLC0415

        d = dict(src_dict)
        pool = d.pop("pool")

        namespace = d.pop("namespace", UNSET)

        timeout_seconds = d.pop("timeoutSeconds", UNSET)

        _metadata = d.pop("metadata", UNSET)
        metadata: CreateSandboxRequestMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = CreateSandboxRequestMetadata.from_dict(_metadata)

        runtime = d.pop("runtime", UNSET)

        image = d.pop("image", UNSET)

        wait = d.pop("wait", UNSET)

        create_sandbox_request = cls(
            pool=pool,
            namespace=namespace,
            timeout_seconds=timeout_seconds,
            metadata=metadata,
            runtime=runtime,
            image=image,
            wait=wait,
        )

        return create_sandbox_request
