from enum import StrEnum


class ApiKeyNotFoundTag(StrEnum):
    APIKEYNOTFOUND = "ApiKeyNotFound"

    def __str__(self) -> str:
        return str(self.value)
