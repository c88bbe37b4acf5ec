from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class SignatureCursorPagination(CursorPagination):
    """Keyset pagination in the queryset's own order (the selector decides it); stable while rows are added."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("confirmed_at", "id")

    def get_page_size(self, request) -> int:
        """A page size out of range is bad input (400 with the field), never silently replaced."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        size = int(raw) if raw.isdecimal() and len(raw) < 6 else 0
        if not 1 <= size <= self.max_page_size:
            raise ValidationError({"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]})
        return size

    def get_ordering(self, request, queryset, view):
        return tuple(queryset.query.order_by) or self.ordering

    def decode_cursor(self, request):
        """A malformed cursor is bad input (400 with the field), not a missing page."""
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({"cursor": ["Invalid cursor."]}) from None
