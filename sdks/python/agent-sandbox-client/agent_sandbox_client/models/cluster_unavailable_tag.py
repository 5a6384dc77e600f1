from enum import StrEnum


class ClusterUnavailableTag(StrEnum):
    CLUSTERUNAVAILABLE = "ClusterUnavailable"

    def __str__(self) -> str:
        return str(self.value)
