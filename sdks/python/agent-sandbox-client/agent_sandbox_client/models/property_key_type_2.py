from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.property_key_type_2_tag import PropertyKeyType2Tag

T = TypeVar("T", bound="PropertyKeyType2")


@_attrs_define
class PropertyKeyType2:
    """an object to be decoded into a globally shared symbol

    Attributes:
        field_tag (PropertyKeyType2Tag):
        key (str):
    """

    field_tag: PropertyKeyType2Tag
    key: str

    def to_dict(self) -> dict[str, Any]:
        field_tag = self.field_tag.value

        key = self.key

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "_tag": field_tag,
                "key": key,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        field_tag = PropertyKeyType2Tag(d.pop("_tag"))

        key = d.pop("key")

        property_key_type_2 = cls(
            field_tag=field_tag,
            key=key,
        )

        return property_key_type_2
