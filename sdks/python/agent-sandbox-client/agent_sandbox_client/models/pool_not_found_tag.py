from enum import StrEnum


class PoolNotFoundTag(StrEnum):
    POOLNOTFOUND = "PoolNotFound"

    def __str__(self) -> str:
        return str(self.value)
