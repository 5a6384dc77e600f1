from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreatedApiKey")


@_attrs_define
class CreatedApiKey:
    """
    Attributes:
        id (str): Names the key for revocation (a prefix of its SHA-256).
        tenant (str):
        admin (bool):
        key (str): The key (`e2b_<40 hex>`), shown once.
        created_at (str | Unset): a string to be decoded into a DateTime.Utc
    """

    id: str
    tenant: str
    admin: bool
    key: str
    created_at: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        tenant = self.tenant

        admin = self.admin

        key = self.key

        created_at = self.created_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "id": id,
                "tenant": tenant,
                "admin": admin,
                "key": key,
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

        key = d.pop("key")

        created_at = d.pop("createdAt", UNSET)

        created_api_key = cls(
            id=id,
            tenant=tenant,
            admin=admin,
            key=key,
            created_at=created_at,
        )

        return created_api_key
