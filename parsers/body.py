"""A mail's readable text and the web links in it (cloud-drive links stand in for attachments)."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

# ASCII URL characters only: Chinese text runs straight on after a link ("链接https://...提取码").
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\")]}>"
_BLOCKS = ("br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote")
_HIDDEN = frozenset({"script", "style", "head"})
_BLANK_LINES = re.compile(r"\n[ \t\u3000\xa0]*(?:\n[ \t\u3000\xa0]*)+")


def html_text(html: str) -> tuple[str, list[str]]:
    """The visible text of an HTML body, and its href targets.

    lxml (libxml2) rather than html.parser: Python 3.11's html.parser takes quadratic time on
    unclosed tags ("<a <a <a ..."), which any sender can write."""
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        document = lxml.html.document_fromstring(html.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):  # empty, or nothing but markup
        return "", []
    hrefs = [str(link.get("href")) for link in document.iter("a") if link.get("href")]
    text = "".join(_visible_text(document)).replace("\xa0", " ")
    return _BLANK_LINES.sub("\n\n", text).strip(), hrefs


def _visible_text(document: etree._Element) -> list[str]:
    # Read, never written back: lxml refuses to set text holding control characters it parsed.
    pieces: list[str] = []
    hidden = 0
    for event, element in etree.iterwalk(document, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            hidden += tag in _HIDDEN
            pieces.append("\n" if tag in _BLOCKS else "")
            pieces.append(element.text or "" if not hidden else "")
        else:
            hidden -= tag in _HIDDEN
            pieces.append("\n" if tag in _BLOCKS and tag != "br" else "")
            pieces.append(element.tail or "" if not hidden else "")
    return pieces


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
