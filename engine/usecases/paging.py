"""Paging shared by the lists (cases, the inbox): the largest page, and the bounds of what a caller asks."""
from __future__ import annotations

# The largest page of any list (the API's inbox lists, GET /api/tasks/mine and /queue, go up to it).
MAX_PAGE_SIZE = 500


def page_window(page: int, per_page: int) -> tuple[int, int]:
    """The page (from 1) and page size (1 to MAX_PAGE_SIZE) nearest to what was asked."""
    return max(1, page), max(1, min(per_page, MAX_PAGE_SIZE))
