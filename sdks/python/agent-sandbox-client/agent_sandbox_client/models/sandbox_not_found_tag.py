from enum import StrEnum


class SandboxNotFoundTag(StrEnum):
    SANDBOXNOTFOUND = "SandboxNotFound"

    def __str__(self) -> str:
        return str(self.value)
