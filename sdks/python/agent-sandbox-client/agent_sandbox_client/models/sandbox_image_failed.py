from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.sandbox_image_failed_tag import SandboxImageFailedTag

T = TypeVar("T", bound="SandboxImageFailed")


@_attrs_define
class SandboxImageFailed:
    """
    Attributes:
        image (str):
        reason (str):
        message (str):
        field_tag (SandboxImageFailedTag):
    """

    image: str
    reason: str
    message: str
    field_tag: SandboxImageFailedTag

    def to_dict(self) -> dict[str, Any]:
        image = self.image

        reason = self.reason

        message = self.message

        field_tag = self.field_tag.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "image": image,
                "reason": reason,
                "message": message,
                "_tag": field_tag,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        image = d.pop("image")

        reason = d.pop("reason")

        message = d.pop("message")

        field_tag = SandboxImageFailedTag(d.pop("_tag"))

        sandbox_image_failed = cls(
            image=image,
            reason=reason,
            message=message,
            field_tag=field_tag,
        )

        return sandbox_image_failed
