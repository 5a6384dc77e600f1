from enum import StrEnum


class CapacityUnavailableTag(StrEnum):
    CAPACITYUNAVAILABLE = "CapacityUnavailable"

    def __str__(self) -> str:
        return str(self.value)
