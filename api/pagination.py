from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination


class SignatureCursorPagination(CursorPagination):
    """Keyset pagination in the queryset's own order (the selector decides it); stable while rows are added."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("confirmed_at", "id")

    def get_ordering(self, request, queryset, view):
        return tuple(queryset.query.order_by) or self.ordering

    def decode_cursor(self, request):
        """A malformed cursor is bad input (400 with the field), not a missing page."""
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({"cursor": ["Invalid cursor."]}) from None
