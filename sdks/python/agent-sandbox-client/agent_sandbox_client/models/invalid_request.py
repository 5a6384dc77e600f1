from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.invalid_request_tag import InvalidRequestTag

T = TypeVar("T", bound="InvalidRequest")


@_attrs_define
class InvalidRequest:
    """
    Attributes:
        message (str):
        field_tag (InvalidRequestTag):
    """

    message: str
    field_tag: InvalidRequestTag

    def to_dict(self) -> dict[str, Any]:
        message = self.message

        field_tag = self.field_tag.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "message": message,
                "_tag": field_tag,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        message = d.pop("message")

        field_tag = InvalidRequestTag(d.pop("_tag"))

        invalid_request = cls(
            message=message,
            field_tag=field_tag,
        )

        return invalid_request
