"""Paginators of the API. Anything a client sends to page with (a cursor, a page number, a page size) that does not
decode to what the paginator itself would have written is a 400 naming the parameter, never a 500 or a missing page.
"""

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination, PageNumberPagination

INVALID_CURSOR = {"cursor": ["Invalid cursor."]}


def _position_field(queryset: QuerySet, name: str) -> models.Field | None:
    """The model field or annotation a cursor position is compared with (None when it cannot be told)."""
    annotation = queryset.query.annotations.get(name)
    if annotation is not None:
        return annotation.output_field
    try:
        return queryset.model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _valid_position(field: models.Field | None, position: str) -> bool:
    """Whether the database can compare `position` with the field: of its type, in its range, without NUL (which
    PostgreSQL text cannot hold)."""
    if "\x00" in position:
        return False
    if field is None:
        return True
    try:
        field.run_validators(field.to_python(position))
    except (DjangoValidationError, TypeError, ValueError, OverflowError):
        return False
    return True


def _page_size(paginator: CursorPagination | PageNumberPagination, request) -> int:
    """A page size out of range is bad input (400 with the field), never silently replaced."""
    assert paginator.page_size is not None and paginator.max_page_size is not None  # both paginators set them
    raw = request.query_params.get(paginator.page_size_query_param)
    if raw is None:
        return paginator.page_size
    size = int(raw) if raw.isdecimal() and len(raw) < 6 else 0
    if not 1 <= size <= paginator.max_page_size:
        raise ValidationError({"page_size": [f"Must be a whole number from 1 to {paginator.max_page_size}."]})
    return size


def _bounded_parameters(parameters: list[dict], bounds: dict[str, dict[str, int]]) -> list[dict]:
    """The schema's query parameters with the bounds `_page_size` and the page number enforce, so a client (or a
    fuzzer) reading the schema knows `page_size=0` is refused."""
    for parameter in parameters:
        parameter["schema"].update(bounds.get(parameter["name"], {}))
    return parameters


class SignatureCursorPagination(CursorPagination):
    """Keyset pagination in the queryset's own order (the selector decides it); stable while rows are added."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("confirmed_at", "id")

    def get_page_size(self, request) -> int:
        return _page_size(self, request)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        bounds = {self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size}}
        return _bounded_parameters(super().get_schema_operation_parameters(view), bounds)

    def get_ordering(self, request, queryset, view) -> tuple[str, ...]:
        ordering = tuple(queryset.query.order_by) or self.ordering
        # DRF decodes the cursor right after asking for the ordering; the position is checked against this field.
        self._position_field = _position_field(queryset, ordering[0].lstrip("-"))
        return ordering

    def decode_cursor(self, request) -> Cursor | None:
        """A cursor that is malformed or holds a position of the wrong type is bad input (400 with the field)."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError(INVALID_CURSOR) from None
        position = cursor.position if cursor is not None else None
        # Cursor.position is the text DRF encoded, typed int in the stubs.
        if position is not None and not _valid_position(getattr(self, "_position_field", None), position):  # type: ignore[arg-type]
            raise ValidationError(INVALID_CURSOR)
        return cursor


class StaffPagePagination(PageNumberPagination):
    """Numbered pages for the staff queues; a page or page size that is not a number in range is a 400."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request) -> int:
        return _page_size(self, request)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        bounds = {
            self.page_query_param: {"minimum": 1},
            self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
        }
        return _bounded_parameters(super().get_schema_operation_parameters(view), bounds)

    def get_page_number(self, request, paginator) -> int:
        """A page past the last is still DRF's 404 ("Invalid page."): that page does not exist."""
        raw = request.query_params.get(self.page_query_param, "1")
        if raw in self.last_page_strings:
            return paginator.num_pages
        digits = raw.lstrip("0")
        if not raw.isdecimal() or not digits:
            raise ValidationError({self.page_query_param: ["Must be a whole number from 1."]})
        # A whole number past any page (and past what the database could offset by) is a page that does not exist.
        return int(digits) if len(digits) < 10 else paginator.num_pages + 1
