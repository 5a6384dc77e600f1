from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.quota_exceeded_quota import QuotaExceededQuota
from ..models.quota_exceeded_tag import QuotaExceededTag

T = TypeVar("T", bound="QuotaExceeded")


@_attrs_define
class QuotaExceeded:
    """
    Attributes:
        quota (QuotaExceededQuota):
        limit (float):
        message (str):
        retry_after_seconds (int): an integer
        field_tag (QuotaExceededTag):
    """

    quota: QuotaExceededQuota
    limit: float
    message: str
    retry_after_seconds: int
    field_tag: QuotaExceededTag

    def to_dict(self) -> dict[str, Any]:
        quota = self.quota.value

        limit = self.limit

        message = self.message

        retry_after_seconds = self.retry_after_seconds

        field_tag = self.field_tag.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "quota": quota,
                "limit": limit,
                "message": message,
                "retryAfterSeconds": retry_after_seconds,
                "_tag": field_tag,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        quota = QuotaExceededQuota(d.pop("quota"))

        limit = d.pop("limit")

        message = d.pop("message")

        retry_after_seconds = d.pop("retryAfterSeconds")

        field_tag = QuotaExceededTag(d.pop("_tag"))

        quota_exceeded = cls(
            quota=quota,
            limit=limit,
            message=message,
            retry_after_seconds=retry_after_seconds,
            field_tag=field_tag,
        )

        return quota_exceeded
