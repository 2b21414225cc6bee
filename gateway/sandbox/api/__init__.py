"""Kintone API endpoints; importing this package registers them all."""

from . import apps, bulk, comments, cursor, files, preview, records, space, status

__all__ = ["apps", "bulk", "comments", "cursor", "files", "preview", "records", "space", "status"]
