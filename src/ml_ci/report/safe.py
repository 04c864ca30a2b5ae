"""Escapers for untrusted text, one per place it lands (issue 11, item 6).

Everything in a record can come from a pull request (a fork's run writes the whole file),
so every record string that reaches the sticky comment, job summary, HTML report, watch
issue or release notes goes through one of these:

* :func:`md_text`: markdown inline text (paragraphs, headings, list items, table cells):
  ASCII punctuation that markdown acts on is backslash-escaped, ``<``/``>``/``&`` become
  entities (no raw HTML, no autolink), newlines become spaces (no new block: no heading,
  quote, list, table or "approved" line of its own), ``@`` mentions and ``://``/``www.``
  auto-links are broken with an invisible joiner, control and bidi characters are dropped;
* :func:`md_code`: the same value as a code span (paths, hashes, keys, refs, params),
  fenced with more backticks than it contains; safe in a table cell;
* :func:`md_link`: a link only when the URL is http(s) on the GitHub server's host
  (``GITHUB_SERVER_URL``, default github.com), else the text and the URL as code;
* :func:`safe_url`: that URL check, for HTML ``href`` and commit-status ``target_url``;
* :func:`plain`: one line of plain text (status descriptions, SVG/mermaid labels).

HTML is jinja2's autoescape (``render(..., "html")``) plus :func:`safe_url` for links.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from typing import Any
from urllib.parse import quote, urlsplit

DEFAULT_SERVER = "https://github.com"
# WORD JOINER: invisible, not a word character, so "@\u2060team" mentions nobody and
# "https:\u2060/\u2060/x" / "www\u2060.x" are not auto-linked (GitHub and CommonMark linkifiers)
JOINER = "\u2060"
# markdown acts on these (CommonMark: any ASCII punctuation may be backslash-escaped)
_MD_PUNCT = re.compile(r"([\\`*\[\]()#!|~$]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
# bidi overrides/isolates and zero-width characters can reorder or hide text
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
# where a joiner goes: inside "://" and "//" (scheme and protocol-relative links), after
# "www" (GFM's www. autolink), on both sides of "@" (mentions and e-mail autolinks)
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=/)|(?<=/)(?=/)|(?<=\bwww)(?=\.)|(?=@)|(?<=@)")


def as_text(value: Any) -> str:
    """Any record value as one string (None as empty, containers as JSON)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, sort_keys=True)


def plain(value: Any) -> str:
    """One line of printable text: control/format characters dropped, whitespace collapsed."""
    text = _INVISIBLE.sub("", as_text(value))
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category.startswith("C") or category in ("Zl", "Zp"):
            kept.append(" " if char in "\t\n\r\u2028\u2029\x0b\x0c\x85" else "")
        else:
            kept.append(char)
    return " ".join("".join(kept).split())


def _break_links(text: str) -> str:
    return _AUTOLINK.sub(JOINER, text)


def md_text(value: Any) -> str:
    """Inline markdown text that renders exactly as ``value`` reads (see the module doc)."""
    text = plain(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _break_links(_MD_PUNCT.sub(r"\\\1", text))


def md_code(value: Any) -> str:
    """``value`` as a code span: no markdown, HTML, mention or link inside; ``|`` escaped so
    it stays in its table cell (GFM removes the backslash). Empty values give an en dash."""
    text = plain(value).replace("|", "\\|")
    if not text:
        return "\u2013"
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def server_host(server_url: str | None = None) -> str:
    """The host links may point to: ``GITHUB_SERVER_URL``'s (github.com by default)."""
    url = server_url or os.environ.get("GITHUB_SERVER_URL") or DEFAULT_SERVER
    return (urlsplit(url).hostname or "github.com").lower()


def safe_url(value: Any, server_url: str | None = None) -> str | None:
    """``value`` when it is an http(s) URL on the server's host (no user-info, no control
    characters), else None."""
    if not isinstance(value, str) or plain(value) != value or " " in value:
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc or "\\" in value:
        return None
    host = (parts.hostname or "").lower()
    if not host or host != server_host(server_url):
        return None
    del port  # parsed only to reject a malformed one
    return value


def md_link(label: Any, url: Any, server_url: str | None = None) -> str:
    """``[label](url)`` for a URL on the server's host; otherwise ``label: `url``` as text."""
    good = safe_url(url, server_url)
    if good is None:
        return f"{md_text(label)}: {md_code(url)}" if url else md_text(label)
    # percent-encode what could end the destination or open raw HTML
    target = quote(good, safe=":/?#[]@!$&'*+,;=%-._~")
    return f"[{md_text(label)}](<{target}>)"


def marker_text(value: Any) -> str:
    """Safe inside an HTML comment (``<!-- ... -->``): no ``--``, ``<``, ``>``; one line."""
    text = plain(value)
    return re.sub(r"[<>]", "_", text).replace("--", "-\u2010")
