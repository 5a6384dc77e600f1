from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.issue_tag import IssueTag

if TYPE_CHECKING:
    from ..models.property_key_type_2 import PropertyKeyType2


T = TypeVar("T", bound="Issue")


@_attrs_define
class Issue:
    """Represents an error encountered while parsing a value to match the schema

    Attributes:
        field_tag (IssueTag): The tag identifying the type of parse issue
        path (list[float | PropertyKeyType2 | str]): The path to the property where the issue occurred
        message (str): A descriptive message explaining the issue
    """

    field_tag: IssueTag
    path: list[float | PropertyKeyType2 | str]
    message: str

    def to_dict(self) -> dict[str, Any]:
        from ..models.property_key_type_2 import PropertyKeyType2  # noqa: PLC0415

        field_tag = self.field_tag.value

        path = []
        for path_item_data in self.path:
            path_item: dict[str, Any] | float | str
            if isinstance(path_item_data, PropertyKeyType2):
                path_item = path_item_data.to_dict()
            else:
                path_item = path_item_data
            path.append(path_item)

        message = self.message

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "_tag": field_tag,
                "path": path,
                "message": message,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.property_key_type_2 import PropertyKeyType2  # noqa: PLC0415

        d = dict(src_dict)
        field_tag = IssueTag(d.pop("_tag"))

        path = []
        _path = d.pop("path")
        for path_item_data in _path:

            def _parse_path_item(data: object) -> float | PropertyKeyType2 | str:
                try:
                    if not isinstance(data, dict):
                        raise TypeError()
                    componentsschemas_property_key_type_2 = PropertyKeyType2.from_dict(data)

                    return componentsschemas_property_key_type_2
                except (TypeError, ValueError, AttributeError, KeyError):
                    pass
                return cast(float | PropertyKeyType2 | str, data)

            path_item = _parse_path_item(path_item_data)

            path.append(path_item)

        message = d.pop("message")

        issue = cls(
            field_tag=field_tag,
            path=path,
            message=message,
        )

        return issue
