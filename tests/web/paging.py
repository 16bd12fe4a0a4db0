"""Reading a paginated list page in tests: the rows' ids in order and the pager's links."""
from __future__ import annotations

import html as markup
import re


def ids(page: str, pattern: str) -> list[int]:
    """The ids in ``pattern`` (a regex with one group) in the order the page shows them, each once."""
    return list(dict.fromkeys(int(m) for m in re.findall(pattern, page)))


def pager(page: str, label: str) -> str:
    """The navigation named ``label`` (its aria-label)."""
    match = re.search(rf'<nav aria-label="{re.escape(label)}" class="pager">(.*?)</nav>', page, re.S)
    assert match, f"no pager {label!r}"
    return match.group(1)


def link(page: str, label: str, rel: str) -> str | None:
    """The URL of the pager's previous (rel="prev") or next (rel="next") link, or None."""
    match = re.search(rf'<a href="([^"]+)" rel="{rel}"', pager(page, label))
    return markup.unescape(match.group(1)) if match else None


def walk(client, url: str, label: str, pattern: str, limit: int = 20) -> list[list[int]]:
    """Follow the next links from ``url``: the ids of each page."""
    pages = []
    while url and len(pages) < limit:
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.get_data(as_text=True)
        pages.append(ids(page, pattern))
        url = link(page, label, "next") if f'aria-label="{label}"' in page else None
    return pages
