from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.sandbox_startup_timeout_tag import SandboxStartupTimeoutTag

T = TypeVar("T", bound="SandboxStartupTimeout")


@_attrs_define
class SandboxStartupTimeout:
    """
    Attributes:
        image (str):
        timeout_seconds (int): an integer
        message (str):
        field_tag (SandboxStartupTimeoutTag):
    """

    image: str
    timeout_seconds: int
    message: str
    field_tag: SandboxStartupTimeoutTag

    def to_dict(self) -> dict[str, Any]:
        image = self.image

        timeout_seconds = self.timeout_seconds

        message = self.message

        field_tag = self.field_tag.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "image": image,
                "timeoutSeconds": timeout_seconds,
                "message": message,
                "_tag": field_tag,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        image = d.pop("image")

        timeout_seconds = d.pop("timeoutSeconds")

        message = d.pop("message")

        field_tag = SandboxStartupTimeoutTag(d.pop("_tag"))

        sandbox_startup_timeout = cls(
            image=image,
            timeout_seconds=timeout_seconds,
            message=message,
            field_tag=field_tag,
        )

        return sandbox_startup_timeout
