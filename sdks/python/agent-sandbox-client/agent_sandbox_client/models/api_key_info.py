from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="ApiKeyInfo")


@_attrs_define
class ApiKeyInfo:
    """
    Attributes:
        id (str): Names the key for revocation (a prefix of its SHA-256).
        tenant (str):
        admin (bool):
        created_at (str | Unset): a string to be decoded into a DateTime.Utc
    """

    id: str
    tenant: str
    admin: bool
    created_at: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        tenant = self.tenant

        admin = self.admin

        created_at = self.created_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "tenant": tenant,
                "admin": admin,
            }
        )
        if created_at is not UNSET:
            field_dict["createdAt"] = created_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        tenant = d.pop("tenant")

        admin = d.pop("admin")

        created_at = d.pop("createdAt", UNSET)

        api_key_info = cls(
            id=id,
            tenant=tenant,
            admin=admin,
            created_at=created_at,
        )

        return api_key_info
