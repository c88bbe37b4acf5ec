"""Path converters: a path parameter that cannot be an identifier does not match, so it is a JSON 404 before any
query (PostgreSQL refuses text with NUL, which `<str:…>` would have passed to the database as a 500)."""

from django.urls import register_converter
from django.urls.converters import StringConverter


class PublicIdConverter(StringConverter):
    """registry.models.new_public_id: URL-safe base64, at most the column's 24 characters."""

    regex = "[A-Za-z0-9_-]{1,24}"


register_converter(PublicIdConverter, "public_id")
