from enum import StrEnum


class TooManyWaitingTag(StrEnum):
    TOOMANYWAITING = "TooManyWaiting"

    def __str__(self) -> str:
        return str(self.value)
