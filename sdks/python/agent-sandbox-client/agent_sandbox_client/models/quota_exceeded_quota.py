from enum import StrEnum


class QuotaExceededQuota(StrEnum):
    CREATESPERSECOND = "createsPerSecond"
    MAXALLOCATED = "maxAllocated"
    MAXWAITING = "maxWaiting"

    def __str__(self) -> str:
        return str(self.value)
