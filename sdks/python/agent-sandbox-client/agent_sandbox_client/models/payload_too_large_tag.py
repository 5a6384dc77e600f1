from enum import StrEnum


class PayloadTooLargeTag(StrEnum):
    PAYLOADTOOLARGE = "PayloadTooLarge"

    def __str__(self) -> str:
        return str(self.value)
