"""Which links a page-by-page walk of the portal follows, shared by the fast (test client) and the
browser walks: same-origin pages only, bounded, never logging out."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# Paths never visited: logging out ends the walk; static files and uploads are not pages.
SKIP_PREFIXES = ("/auth/logout/", "/admin/logout/", "/static/", "/media/", "/hooks/")
# The admin's filters and sort orders make endless query strings: a few per page are enough.
QUERIES_PER_PATH = 3


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def page_links(html: str, page_url: str) -> list[str]:
    """Absolute URLs of the `<a href>`s of a page, without fragments, in order, once each."""
    parser = _Links()
    parser.feed(html)
    seen: dict[str, None] = {}
    for href in parser.hrefs:
        if href.startswith(("mailto:", "tel:", "javascript:", "#")):
            continue
        seen.setdefault(urljoin(page_url, href).split("#")[0], None)
    return list(seen)


class Frontier:
    """Breadth-first: the pages to visit, to `max_depth` links from the first, `limit` in all."""

    def __init__(self, origin: str, start: str, *, max_depth: int, limit: int) -> None:
        self.origin = origin.rstrip("/")
        self.max_depth = max_depth
        self.limit = limit
        self.queue: list[tuple[str, int, str]] = [(urljoin(self.origin + "/", start), 0, "")]
        self.seen: set[str] = {self.queue[0][0]}
        self.queries: dict[str, int] = {}

    def __iter__(self):
        visited = 0
        while self.queue and visited < self.limit:
            url, depth, referrer = self.queue.pop(0)
            visited += 1
            yield url, depth, referrer

    def add(self, url: str, depth: int, referrer: str) -> None:
        if depth > self.max_depth or url in self.seen or not url.startswith(self.origin + "/"):
            return
        parts = urlsplit(url)
        if parts.path.startswith(SKIP_PREFIXES):
            return
        if parts.query:
            count = self.queries.get(parts.path, 0)
            if count >= QUERIES_PER_PATH:
                return
            self.queries[parts.path] = count + 1
        self.seen.add(url)
        self.queue.append((url, depth, referrer))
