from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.sandbox_not_found_tag import SandboxNotFoundTag

T = TypeVar("T", bound="SandboxNotFound")


@_attrs_define
class SandboxNotFound:
    """
    Attributes:
        sandbox_id (str):
        message (str):
        field_tag (SandboxNotFoundTag):
    """

    sandbox_id: str
    message: str
    field_tag: SandboxNotFoundTag

    def to_dict(self) -> dict[str, Any]:
        sandbox_id = self.sandbox_id

        message = self.message

        field_tag = self.field_tag.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "sandboxId": sandbox_id,
                "message": message,
                "_tag": field_tag,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        sandbox_id = d.pop("sandboxId")

        message = d.pop("message")

        field_tag = SandboxNotFoundTag(d.pop("_tag"))

        sandbox_not_found = cls(
            sandbox_id=sandbox_id,
            message=message,
            field_tag=field_tag,
        )

        return sandbox_not_found
