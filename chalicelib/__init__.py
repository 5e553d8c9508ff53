"""Everything the Lambda needs. Importing it registers the SnapStart runtime hooks."""

from chalicelib import snapstart as _snapstart  # noqa: F401
