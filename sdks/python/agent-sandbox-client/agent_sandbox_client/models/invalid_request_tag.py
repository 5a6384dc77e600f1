from enum import StrEnum


class InvalidRequestTag(StrEnum):
    INVALIDREQUEST = "InvalidRequest"

    def __str__(self) -> str:
        return str(self.value)
