from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.image_not_allowed_tag import ImageNotAllowedTag

T = TypeVar("T", bound="ImageNotAllowed")


@_attrs_define
class ImageNotAllowed:
    """
    Attributes:
        image (str):
        message (str):
        field_tag (ImageNotAllowedTag):
    """

    image: str
    message: str
    field_tag: ImageNotAllowedTag

    def to_dict(self) -> dict[str, Any]:
        image = self.image

        message = self.message

        field_tag = self.field_tag.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "image": image,
                "message": message,
                "_tag": field_tag,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        image = d.pop("image")

        message = d.pop("message")

        field_tag = ImageNotAllowedTag(d.pop("_tag"))

        image_not_allowed = cls(
            image=image,
            message=message,
            field_tag=field_tag,
        )

        return image_not_allowed
