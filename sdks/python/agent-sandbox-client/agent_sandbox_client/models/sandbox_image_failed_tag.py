from enum import StrEnum


class SandboxImageFailedTag(StrEnum):
    SANDBOXIMAGEFAILED = "SandboxImageFailed"

    def __str__(self) -> str:
        return str(self.value)
