from enum import StrEnum


class ImageNotAllowedTag(StrEnum):
    IMAGENOTALLOWED = "ImageNotAllowed"

    def __str__(self) -> str:
        return str(self.value)
