from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.sandbox_metadata import SandboxMetadata


T = TypeVar("T", bound="Sandbox")


@_attrs_define
class Sandbox:
    """
    Attributes:
        id (str):
        namespace (str):
        pool (str):
        pod (str):
        tenant (str):
        image (str):
        ready (bool): Whether the sandbox container runs its image and is Ready (false while a switch of image is under
            way).
        allocated_at (str): a string to be decoded into a DateTime.Utc
        expires_at (str): a string to be decoded into a DateTime.Utc
        metadata (SandboxMetadata):
        runtime (str | Unset): The runtime the request chose, if any.
        image_error (str | Unset): Why the sandbox's image does not run, as its kubelet reports it (e.g. 'ErrImagePull:
            ...'). A sandbox that is not Ready within the pool's startupTimeoutSeconds is ended.
    """

    id: str
    namespace: str
    pool: str
    pod: str
    tenant: str
    image: str
    ready: bool
    allocated_at: str
    expires_at: str
    metadata: SandboxMetadata
    runtime: str | Unset = UNSET
    image_error: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        namespace = self.namespace

        pool = self.pool

        pod = self.pod

        tenant = self.tenant

        image = self.image

        ready = self.ready

        allocated_at = self.allocated_at

        expires_at = self.expires_at

        metadata = self.metadata.to_dict()

        runtime = self.runtime

        image_error = self.image_error

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "namespace": namespace,
                "pool": pool,
                "pod": pod,
                "tenant": tenant,
                "image": image,
                "ready": ready,
                "allocatedAt": allocated_at,
                "expiresAt": expires_at,
                "metadata": metadata,
            }
        )
        if runtime is not UNSET:
            field_dict["runtime"] = runtime
        if image_error is not UNSET:
            field_dict["imageError"] = image_error

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.sandbox_metadata import SandboxMetadata  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        namespace = d.pop("namespace")

        pool = d.pop("pool")

        pod = d.pop("pod")

        tenant = d.pop("tenant")

        image = d.pop("image")

        ready = d.pop("ready")

        allocated_at = d.pop("allocatedAt")

        expires_at = d.pop("expiresAt")

        metadata = SandboxMetadata.from_dict(d.pop("metadata"))

        runtime = d.pop("runtime", UNSET)

        image_error = d.pop("imageError", UNSET)

        sandbox = cls(
            id=id,
            namespace=namespace,
            pool=pool,
            pod=pod,
            tenant=tenant,
            image=image,
            ready=ready,
            allocated_at=allocated_at,
            expires_at=expires_at,
            metadata=metadata,
            runtime=runtime,
            image_error=image_error,
        )

        return sandbox
