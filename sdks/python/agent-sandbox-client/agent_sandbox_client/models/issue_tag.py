from enum import StrEnum


class IssueTag(StrEnum):
    COMPOSITE = "Composite"
    FORBIDDEN = "Forbidden"
    MISSING = "Missing"
    POINTER = "Pointer"
    REFINEMENT = "Refinement"
    TRANSFORMATION = "Transformation"
    TYPE = "Type"
    UNEXPECTED = "Unexpected"

    def __str__(self) -> str:
        return str(self.value)
