from enum import StrEnum


class QuotaExceededTag(StrEnum):
    QUOTAEXCEEDED = "QuotaExceeded"

    def __str__(self) -> str:
        return str(self.value)
