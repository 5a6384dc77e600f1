from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.http_api_decode_error_tag import HttpApiDecodeErrorTag

if TYPE_CHECKING:
    from ..models.issue import Issue


T = TypeVar("T", bound="HttpApiDecodeError")


@_attrs_define
class HttpApiDecodeError:
    """The request did not match the expected schema

    Attributes:
        issues (list[Issue]):
        message (str):
        field_tag (HttpApiDecodeErrorTag):
    """

    issues: list[Issue]
    message: str
    field_tag: HttpApiDecodeErrorTag

    def to_dict(self) -> dict[str, Any]:
        issues = []
        for issues_item_data in self.issues:
            issues_item = issues_item_data.to_dict()
            issues.append(issues_item)

        message = self.message

        field_tag = self.field_tag.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "issues": issues,
                "message": message,
                "_tag": field_tag,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.issue import Issue  # noqa: PLC0415

        d = dict(src_dict)
        issues = []
        _issues = d.pop("issues")
        for issues_item_data in _issues:
            issues_item = Issue.from_dict(issues_item_data)

            issues.append(issues_item)

        message = d.pop("message")

        field_tag = HttpApiDecodeErrorTag(d.pop("_tag"))

        http_api_decode_error = cls(
            issues=issues,
            message=message,
            field_tag=field_tag,
        )

        return http_api_decode_error
