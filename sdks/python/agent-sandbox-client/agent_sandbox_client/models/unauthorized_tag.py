from enum import StrEnum


class UnauthorizedTag(StrEnum):
    UNAUTHORIZED = "Unauthorized"

    def __str__(self) -> str:
        return str(self.value)
