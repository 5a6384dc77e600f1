from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="PoolSummary")


@_attrs_define
class PoolSummary:
    """
    Attributes:
        namespace (str):
        name (str):
        template (str):
        replicas (int): an integer
        idle (int): an integer
        allocated (int): an integer
        starting (int): an integer
    """

    namespace: str
    name: str
    template: str
    replicas: int
    idle: int
    allocated: int
    starting: int

    def to_dict(self) -> dict[str, Any]:
        namespace = self.namespace

        name = self.name

        template = self.template

        replicas = self.replicas

        idle = self.idle

        allocated = self.allocated

        starting = self.starting

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "namespace": namespace,
                "name": name,
                "template": template,
                "replicas": replicas,
                "idle": idle,
                "allocated": allocated,
                "starting": starting,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        namespace = d.pop("namespace")

        name = d.pop("name")

        template = d.pop("template")

        replicas = d.pop("replicas")

        idle = d.pop("idle")

        allocated = d.pop("allocated")

        starting = d.pop("starting")

        pool_summary = cls(
            namespace=namespace,
            name=name,
            template=template,
            replicas=replicas,
            idle=idle,
            allocated=allocated,
            starting=starting,
        )

        return pool_summary
