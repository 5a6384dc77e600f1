from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="TemplateSummary")


@_attrs_define
class TemplateSummary:
    """
    Attributes:
        name (str):
        image (str):
        runtimes (list[str]):
        idle_image (str | Unset):
    """

    name: str
    image: str
    runtimes: list[str]
    idle_image: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        image = self.image

        runtimes = self.runtimes

        idle_image = self.idle_image

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "image": image,
                "runtimes": runtimes,
            }
        )
        if idle_image is not UNSET:
            field_dict["idleImage"] = idle_image

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        image = d.pop("image")

        runtimes = cast(list[str], d.pop("runtimes"))

        idle_image = d.pop("idleImage", UNSET)

        template_summary = cls(
            name=name,
            image=image,
            runtimes=runtimes,
            idle_image=idle_image,
        )

        return template_summary
