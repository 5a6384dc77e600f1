from enum import StrEnum


class ForbiddenTag(StrEnum):
    FORBIDDEN = "Forbidden"

    def __str__(self) -> str:
        return str(self.value)
