"""The gateway's Kintone client: typed errors, auth, retries, paging and query escaping.

It knows Kintone's REST API and nothing of OData, Flask or the sandbox.
"""

from .client import KintoneClient
from .errors import (
    KintoneAuthError,
    KintoneBadRequest,
    KintoneConflict,
    KintoneError,
    KintoneNotFound,
    KintonePermissionError,
    KintoneThrottled,
    KintoneTokenMissing,
    KintoneUnavailable,
    KintoneValidationError,
)
from .models import (
    BulkItem,
    CommentPage,
    Cursor,
    CursorPage,
    FileDownload,
    Record,
    RecordPage,
    RecordRef,
    record_id,
)
from .paging import iter_comments, iter_records
from .query import quote
from .retry import RetryPolicy

__all__ = [
    "BulkItem",
    "CommentPage",
    "Cursor",
    "CursorPage",
    "FileDownload",
    "KintoneAuthError",
    "KintoneBadRequest",
    "KintoneClient",
    "KintoneConflict",
    "KintoneError",
    "KintoneNotFound",
    "KintonePermissionError",
    "KintoneThrottled",
    "KintoneTokenMissing",
    "KintoneUnavailable",
    "KintoneValidationError",
    "Record",
    "RecordPage",
    "RecordRef",
    "RetryPolicy",
    "iter_comments",
    "iter_records",
    "quote",
    "record_id",
]
