"""The API's only request parser: JSON, refused with a 400 when it is nested too deeply or not valid Unicode.

Python's decoder recurses once per nesting level, so a body of 100,000 `[` ends in a RecursionError (a 500) before
any serializer sees it; a lone surrogate (`"\\ud800"`) decodes fine but cannot be encoded for the database.
"""

import json
from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

MAX_JSON_DEPTH = 20  # the deepest body any endpoint takes is 1 (a flat object); room for clients that wrap it
TOO_DEEP = f"JSON parse error - nested more than {MAX_JSON_DEPTH} levels deep."
NOT_UNICODE = "JSON parse error - strings must be valid Unicode (no lone surrogates)."


def _check(data: Any) -> None:
    """Walk the parsed value without recursion: its depth, and every key and string."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ParseError(TOO_DEEP)
            items = value.items() if isinstance(value, dict) else ((None, item) for item in value)
            for key, item in items:
                if key is not None and not _is_unicode(key):
                    raise ParseError(NOT_UNICODE)
                pending.append((item, depth + 1))
        elif isinstance(value, str) and not _is_unicode(value):
            raise ParseError(NOT_UNICODE)


def _is_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser (same errors and strictness), with a depth limit and a Unicode check.

    Bodies are at most DATA_UPLOAD_MAX_MEMORY_SIZE: DRF reads JSON through `request.body`, which enforces it.
    """

    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]  # DRF 3.17+, newer than the stubs
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        try:
            data = json.loads(text, parse_constant=strict_constant if self.strict else None)
        except RecursionError:
            raise ParseError(TOO_DEEP) from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        # A flat body of ASCII text without escapes is always fine: skip the walk on the hot path.
        if text.count("[") + text.count("{") > MAX_JSON_DEPTH or not text.isascii() or "\\u" in text:
            _check(data)
        return data
