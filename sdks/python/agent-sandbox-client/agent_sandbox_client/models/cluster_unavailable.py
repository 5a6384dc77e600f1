from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.cluster_unavailable_tag import ClusterUnavailableTag

T = TypeVar("T", bound="ClusterUnavailable")


@_attrs_define
class ClusterUnavailable:
    """
    Attributes:
        message (str):
        field_tag (ClusterUnavailableTag):
    """

    message: str
    field_tag: ClusterUnavailableTag

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

        field_tag = ClusterUnavailableTag(d.pop("_tag"))

        cluster_unavailable = cls(
            message=message,
            field_tag=field_tag,
        )

        return cluster_unavailable
