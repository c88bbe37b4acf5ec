from rest_framework.pagination import CursorPagination


class SignatureCursorPagination(CursorPagination):
    """Keyset pagination in the queryset's own order (the selector decides it); stable while rows are added."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = ("confirmed_at", "id")

    def get_ordering(self, request, queryset, view):
        return tuple(queryset.query.order_by) or self.ordering
