from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.payload_too_large_tag import PayloadTooLargeTag

T = TypeVar("T", bound="PayloadTooLarge")


@_attrs_define
class PayloadTooLarge:
    """
    Attributes:
        limit_bytes (int): an integer
        message (str):
        field_tag (PayloadTooLargeTag):
    """

    limit_bytes: int
    message: str
    field_tag: PayloadTooLargeTag

    def to_dict(self) -> dict[str, Any]:
        limit_bytes = self.limit_bytes

        message = self.message

        field_tag = self.field_tag.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "limitBytes": limit_bytes,
                "message": message,
                "_tag": field_tag,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        limit_bytes = d.pop("limitBytes")

        message = d.pop("message")

        field_tag = PayloadTooLargeTag(d.pop("_tag"))

        payload_too_large = cls(
            limit_bytes=limit_bytes,
            message=message,
            field_tag=field_tag,
        )

        return payload_too_large
