from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="CreateApiKeyRequest")


@_attrs_define
class CreateApiKeyRequest:
    """
    Attributes:
        tenant (str): The tenant the key acts as: it sees and touches only that tenant's sandboxes.
        admin (bool | Unset): An admin key sees every tenant's sandboxes and may manage keys and pools (default false).
    """

    tenant: str
    admin: bool | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        tenant = self.tenant

        admin = self.admin

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "tenant": tenant,
            }
        )
        if admin is not UNSET:
            field_dict["admin"] = admin

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        tenant = d.pop("tenant")

        admin = d.pop("admin", UNSET)

        create_api_key_request = cls(
            tenant=tenant,
            admin=admin,
        )

        return create_api_key_request
