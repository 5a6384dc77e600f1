from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ExtendTimeoutRequest")


@_attrs_define
class ExtendTimeoutRequest:
    """
    Attributes:
        timeout_seconds (int): an integer
    """

    timeout_seconds: int

    def to_dict(self) -> dict[str, Any]:
        timeout_seconds = self.timeout_seconds

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "timeoutSeconds": timeout_seconds,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        timeout_seconds = d.pop("timeoutSeconds")

        extend_timeout_request = cls(
            timeout_seconds=timeout_seconds,
        )

        return extend_timeout_request
