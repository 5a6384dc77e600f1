from enum import StrEnum


class SandboxStartupTimeoutTag(StrEnum):
    SANDBOXSTARTUPTIMEOUT = "SandboxStartupTimeout"

    def __str__(self) -> str:
        return str(self.value)
