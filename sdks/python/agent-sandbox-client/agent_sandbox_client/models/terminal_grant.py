from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="TerminalGrant")


@_attrs_define
class TerminalGrant:
    """
    Attributes:
        token (str): Opens one terminal in the sandbox through wsproxy (:9003), once, until expiresAt: `GET
            <path>?token=<token>` as a WebSocket.
        path (str): wsproxy's WebSocket path for this sandbox's terminal.
        expires_at (str): a string to be decoded into a DateTime.Utc
    """

    token: str
    path: str
    expires_at: str

    def to_dict(self) -> dict[str, Any]:
        token = self.token

        path = self.path

        expires_at = self.expires_at

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "token": token,
                "path": path,
                "expiresAt": expires_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        token = d.pop("token")

        path = d.pop("path")

        expires_at = d.pop("expiresAt")

        terminal_grant = cls(
            token=token,
            path=path,
            expires_at=expires_at,
        )

        return terminal_grant
