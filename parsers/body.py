"""A mail's readable text and the web links in it (cloud-drive links stand in for attachments)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# ASCII URL characters only: Chinese text runs straight on after a link ("链接https://...提取码").
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\")]}>"
_BLOCKS = frozenset({"br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote"})
_HIDDEN = frozenset({"script", "style", "head", "title"})
_BLANK_LINES = re.compile(r"\n[ \t\u3000]*(?:\n[ \t\u3000]*)+")


class _TextAndLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.hrefs: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        if tag in _BLOCKS:
            self.text.append("\n")
        self.hrefs.extend(value for name, value in attrs if name == "href" and value)

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        if tag in _BLOCKS:
            self.text.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def html_text(html: str) -> tuple[str, list[str]]:
    """The visible text of an HTML body, and its href targets."""
    reader = _TextAndLinks()
    try:
        reader.feed(html)
        reader.close()
    except (AssertionError, ValueError, IndexError):  # html.parser on broken markup, older Pythons
        return re.sub(r"<[^>]*>", " ", html), []
    text = "".join(reader.text).replace("\xa0", " ")
    return _BLANK_LINES.sub("\n\n", text).strip(), reader.hrefs


def find_links(texts: list[str]) -> tuple[str, ...]:
    """http(s) URLs in order of first appearance, without trailing punctuation, each once."""
    links: dict[str, None] = {}
    for text in texts:
        for match in _URL.finditer(text):
            link = _trim(match.group(0))
            if len(link) > len("https://"):
                links.setdefault(link, None)
    return tuple(links)


def _trim(link: str) -> str:
    while link and link[-1] in _TRAILING:
        if link[-1] == ")" and link.count("(") >= link.count(")"):
            break
        link = link[:-1]
    return link
