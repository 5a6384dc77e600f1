from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PoolScale")


@_attrs_define
class PoolScale:
    """
    Attributes:
        namespace (str):
        name (str):
        replicas (int): an integer
    """

    namespace: str
    name: str
    replicas: int

    def to_dict(self) -> dict[str, Any]:
        namespace = self.namespace

        name = self.name

        replicas = self.replicas

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "namespace": namespace,
                "name": name,
                "replicas": replicas,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        namespace = d.pop("namespace")

        name = d.pop("name")

        replicas = d.pop("replicas")

        pool_scale = cls(
            namespace=namespace,
            name=name,
            replicas=replicas,
        )

        return pool_scale
