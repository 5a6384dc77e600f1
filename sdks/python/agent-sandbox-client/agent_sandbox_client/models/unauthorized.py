from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.unauthorized_tag import UnauthorizedTag

T = TypeVar("T", bound="Unauthorized")


@_attrs_define
class Unauthorized:
    """
    Attributes:
        message (str):
        field_tag (UnauthorizedTag):
    """

    message: str
    field_tag: UnauthorizedTag

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

        field_tag = UnauthorizedTag(d.pop("_tag"))

        unauthorized = cls(
            message=message,
            field_tag=field_tag,
        )

        return unauthorized
