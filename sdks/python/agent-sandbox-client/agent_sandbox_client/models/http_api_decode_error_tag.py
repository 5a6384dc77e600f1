from enum import StrEnum


class HttpApiDecodeErrorTag(StrEnum):
    HTTPAPIDECODEERROR = "HttpApiDecodeError"

    def __str__(self) -> str:
        return str(self.value)
