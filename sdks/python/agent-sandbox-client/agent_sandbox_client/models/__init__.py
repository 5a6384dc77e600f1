"""Contains all the data models used in inputs/outputs"""

from .api_key_info import ApiKeyInfo
from .api_key_not_found import ApiKeyNotFound
from .api_key_not_found_tag import ApiKeyNotFoundTag
from .batch_create_sandboxes_request import BatchCreateSandboxesRequest
from .batch_create_sandboxes_request_metadata import BatchCreateSandboxesRequestMetadata
from .capacity_unavailable import CapacityUnavailable
from .capacity_unavailable_tag import CapacityUnavailableTag
from .cluster_unavailable import ClusterUnavailable
from .cluster_unavailable_tag import ClusterUnavailableTag
from .create_api_key_request import CreateApiKeyRequest
from .create_sandbox_request import CreateSandboxRequest
from .create_sandbox_request_metadata import CreateSandboxRequestMetadata
from .created_api_key import CreatedApiKey
from .extend_timeout_request import ExtendTimeoutRequest
from .forbidden import Forbidden
from .forbidden_tag import ForbiddenTag
from .http_api_decode_error import HttpApiDecodeError
from .http_api_decode_error_tag import HttpApiDecodeErrorTag
from .image_not_allowed import ImageNotAllowed
from .image_not_allowed_tag import ImageNotAllowedTag
from .invalid_request import InvalidRequest
from .invalid_request_tag import InvalidRequestTag
from .issue import Issue
from .issue_tag import IssueTag
from .payload_too_large import PayloadTooLarge
from .payload_too_large_tag import PayloadTooLargeTag
from .pool_not_found import PoolNotFound
from .pool_not_found_tag import PoolNotFoundTag
from .pool_scale import PoolScale
from .pool_summary import PoolSummary
from .property_key_type_2 import PropertyKeyType2
from .property_key_type_2_tag import PropertyKeyType2Tag
from .quota_exceeded import QuotaExceeded
from .quota_exceeded_quota import QuotaExceededQuota
from .quota_exceeded_tag import QuotaExceededTag
from .sandbox import Sandbox
from .sandbox_batch import SandboxBatch
from .sandbox_image_failed import SandboxImageFailed
from .sandbox_image_failed_tag import SandboxImageFailedTag
from .sandbox_metadata import SandboxMetadata
from .sandbox_not_found import SandboxNotFound
from .sandbox_not_found_tag import SandboxNotFoundTag
from .sandbox_page import SandboxPage
from .sandbox_startup_timeout import SandboxStartupTimeout
from .sandbox_startup_timeout_tag import SandboxStartupTimeoutTag
from .scale_pool_request import ScalePoolRequest
from .template_summary import TemplateSummary
from .terminal_grant import TerminalGrant
from .too_many_waiting import TooManyWaiting
from .too_many_waiting_tag import TooManyWaitingTag
from .unauthorized import Unauthorized
from .unauthorized_tag import UnauthorizedTag

__all__ = (
    "ApiKeyInfo",
    "ApiKeyNotFound",
    "ApiKeyNotFoundTag",
    "BatchCreateSandboxesRequest",
    "BatchCreateSandboxesRequestMetadata",
    "CapacityUnavailable",
    "CapacityUnavailableTag",
    "ClusterUnavailable",
    "ClusterUnavailableTag",
    "CreateApiKeyRequest",
    "CreatedApiKey",
    "CreateSandboxRequest",
    "CreateSandboxRequestMetadata",
    "ExtendTimeoutRequest",
    "Forbidden",
    "ForbiddenTag",
    "HttpApiDecodeError",
    "HttpApiDecodeErrorTag",
    "ImageNotAllowed",
    "ImageNotAllowedTag",
    "InvalidRequest",
    "InvalidRequestTag",
    "Issue",
    "IssueTag",
    "PayloadTooLarge",
    "PayloadTooLargeTag",
    "PoolNotFound",
    "PoolNotFoundTag",
    "PoolScale",
    "PoolSummary",
    "PropertyKeyType2",
    "PropertyKeyType2Tag",
    "QuotaExceeded",
    "QuotaExceededQuota",
    "QuotaExceededTag",
    "Sandbox",
    "SandboxBatch",
    "SandboxImageFailed",
    "SandboxImageFailedTag",
    "SandboxMetadata",
    "SandboxNotFound",
    "SandboxNotFoundTag",
    "SandboxPage",
    "SandboxStartupTimeout",
    "SandboxStartupTimeoutTag",
    "ScalePoolRequest",
    "TemplateSummary",
    "TerminalGrant",
    "TooManyWaiting",
    "TooManyWaitingTag",
    "Unauthorized",
    "UnauthorizedTag",
)
