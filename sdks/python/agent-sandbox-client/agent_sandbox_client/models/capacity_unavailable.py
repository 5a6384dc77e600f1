from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.capacity_unavailable_tag import CapacityUnavailableTag

T = TypeVar("T", bound="CapacityUnavailable")


@_attrs_define
class CapacityUnavailable:
    """
    Attributes:
        message (str):
        retry_after_seconds (int): an integer
        field_tag (CapacityUnavailableTag):
    """

    message: str
    retry_after_seconds: int
    field_tag: CapacityUnavailableTag

    def to_dict(self) -> dict[str, Any]:
        message = self.message

        retry_after_seconds = self.retry_after_seconds

        field_tag = self.field_tag.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "message": message,
                "retryAfterSeconds": retry_after_seconds,
                "_tag": field_tag,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        message = d.pop("message")

        retry_after_seconds = d.pop("retryAfterSeconds")

        field_tag = CapacityUnavailableTag(d.pop("_tag"))

        capacity_unavailable = cls(
            message=message,
            retry_after_seconds=retry_after_seconds,
            field_tag=field_tag,
        )

        return capacity_unavailable
