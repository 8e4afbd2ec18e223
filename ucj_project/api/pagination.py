"""Page-number pagination used by every list endpoint."""

from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    """Page-number pagination; `page_size` may be asked for, but never above `max_page_size`."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
