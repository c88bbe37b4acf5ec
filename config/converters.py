"""Path converters shared by every app: a path parameter that cannot be an identifier does not match, so it is a 404
before any query. PostgreSQL refuses text with NUL, which `<str:…>` would pass on, and a number past bigint, which
`<int:…>` would (SQLite one past 64 bits): each a 500. Import this module where they are used; it registers once."""

from django.urls import register_converter
from django.urls.converters import IntConverter, StringConverter


class PublicIdConverter(StringConverter):
    """registry.models.new_public_id: URL-safe base64, at most the column's 24 characters."""

    regex = "[A-Za-z0-9_-]{1,24}"


class NumConverter(IntConverter):
    """A non-negative whole number of at most 18 digits: always below 2**63, the largest bigint key."""

    regex = "[0-9]{1,18}"


register_converter(PublicIdConverter, "public_id")
register_converter(NumConverter, "num")
