from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.api_key_not_found_tag import ApiKeyNotFoundTag

T = TypeVar("T", bound="ApiKeyNotFound")


@_attrs_define
class ApiKeyNotFound:
    """
    Attributes:
        id (str):
        message (str):
        field_tag (ApiKeyNotFoundTag):
    """

    id: str
    message: str
    field_tag: ApiKeyNotFoundTag

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        message = self.message

        field_tag = self.field_tag.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "message": message,
                "_tag": field_tag,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        message = d.pop("message")

        field_tag = ApiKeyNotFoundTag(d.pop("_tag"))

        api_key_not_found = cls(
            id=id,
            message=message,
            field_tag=field_tag,
        )

        return api_key_not_found
