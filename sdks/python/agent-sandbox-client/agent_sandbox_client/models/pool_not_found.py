from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.pool_not_found_tag import PoolNotFoundTag

T = TypeVar("T", bound="PoolNotFound")


@_attrs_define
class PoolNotFound:
    """
    Attributes:
        namespace (str):
        pool (str):
        message (str):
        field_tag (PoolNotFoundTag):
    """

    namespace: str
    pool: str
    message: str
    field_tag: PoolNotFoundTag

    def to_dict(self) -> dict[str, Any]:
        namespace = self.namespace

        pool = self.pool

        message = self.message

        field_tag = self.field_tag.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "namespace": namespace,
                "pool": pool,
                "message": message,
                "_tag": field_tag,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        namespace = d.pop("namespace")

        pool = d.pop("pool")

        message = d.pop("message")

        field_tag = PoolNotFoundTag(d.pop("_tag"))

        pool_not_found = cls(
            namespace=namespace,
            pool=pool,
            message=message,
            field_tag=field_tag,
        )

        return pool_not_found
