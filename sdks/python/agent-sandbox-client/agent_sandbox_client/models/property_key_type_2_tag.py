from enum import StrEnum


class PropertyKeyType2Tag(StrEnum):
    SYMBOL = "symbol"

    def __str__(self) -> str:
        return str(self.value)
