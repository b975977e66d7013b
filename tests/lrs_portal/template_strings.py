"""Find the words a template shows that are not marked for translation
(docs/decisions/0034), for tests/lrs_portal/test_welsh.py.

A template is read with Django's own lexer. Text inside ``{% blocktranslate %}``,
``{% comment %}`` and ``<script>``/``<style>`` is left out; every other text
node, and the attributes a person reads or hears (``alt``, ``title``,
``aria-label``, ``placeholder``, a button's ``value``), must hold no words once
the template tags and variables are taken out. String literals given to an
``{% include ... with %}`` (``label="Date of birth"``) and to a filter
(``|default:"Not given"``) count too: write them ``_("Date of birth")``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from django.template.base import Lexer, TokenType

# Written the same in Welsh: names, and the marks between them.
NOT_WORDS = {"GOV.UK", "English", "Cymraeg", "LRS Portal", "OGL", "ULN", "UKPRN"}
_WORD = re.compile(r"[^\W\d_]{2,}")
_SKIP_BLOCKS = {
    "blocktranslate": "endblocktranslate",
    "blocktrans": "endblocktrans",
    "comment": "endcomment",
    "verbatim": "endverbatim",
}
_READ_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder", "aria-description"}
_HOLE = "\x00"
# key="A label" in an include's with-clause; "text" given to a filter.
_WITH_LITERAL = re.compile(r"""\b[\w-]+=(["'])(.*?)\1""")
_FILTER_LITERAL = re.compile(r""":(["'])(.*?)\1""")


@dataclass(frozen=True)
class Unmarked:
    template: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.template}:{self.line}: {self.text!r}"


def _has_words(text: str) -> bool:
    text = text.replace(_HOLE, " ")
    for name in NOT_WORDS:
        text = text.replace(name, " ")
    return bool(_WORD.search(text))


def _literal_is_words(value: str) -> bool:
    """A label, not a name, path, class or identifier."""
    if "/" in value or value.endswith((".html", ".txt", ".svg")):
        return False
    if not _has_words(value):
        return False
    return " " in value.strip() or value[:1].isupper()


class _Reader(HTMLParser):
    def __init__(self, template: str, lines: list[int]) -> None:
        super().__init__(convert_charrefs=True)
        self.template = template
        self.lines = lines  # the template line each character of the fed text is on
        self.offset_of_line = [0]
        self.found: list[Unmarked] = []
        self._raw = 0  # inside <script> or <style>

    def feed_text(self, text: str) -> None:
        for index, char in enumerate(text):
            if char == "\n":
                self.offset_of_line.append(index + 1)
        self.feed(text)
        self.close()

    def _line(self) -> int:
        fed_line, column = self.getpos()
        offset = self.offset_of_line[fed_line - 1] + column
        return self.lines[min(offset, len(self.lines) - 1)] if self.lines else 1

    def _flag(self, text: str) -> None:
        shown = " ".join(text.replace(_HOLE, "…").split())
        self.found.append(Unmarked(self.template, self._line(), shown))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._raw += 1
        values = dict(attrs)
        for name, value in attrs:
            if value is None:
                continue
            read = name in _READ_ATTRIBUTES or (
                name == "value"
                and tag in {"input", "button"}
                and values.get("type") in {"submit", "button", "reset"}
            )
            if read and _has_words(value):
                self._flag(value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag in {"script", "style"}:
            self._raw -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"} and self._raw:
            self._raw -= 1

    def handle_data(self, data: str) -> None:
        if not self._raw and _has_words(data):
            self._flag(data.strip())


def unmarked_strings(path: Path, root: Path) -> list[Unmarked]:
    """What in the template at *path* a person would read in English only."""
    name = str(path.relative_to(root))
    source = path.read_text(encoding="utf-8")
    found: list[Unmarked] = []
    text: list[str] = []
    lines: list[int] = []
    closing: str | None = None
    for token in Lexer(source).tokenize():
        if token.token_type is TokenType.BLOCK:
            command = token.contents.split(None, 1)[0] if token.contents else ""
            if closing:
                if command == closing:
                    closing = None
                continue
            if command in _SKIP_BLOCKS:
                closing = _SKIP_BLOCKS[command]
            elif command in {"include", "with"}:
                for _quote, value in _WITH_LITERAL.findall(token.contents):
                    if _literal_is_words(value):
                        found.append(Unmarked(name, token.lineno, value))
            piece = _HOLE
        elif closing:
            continue
        elif token.token_type is TokenType.VAR:
            for _quote, value in _FILTER_LITERAL.findall(token.contents):
                if _has_words(value) and not token.contents.startswith("_("):
                    found.append(Unmarked(name, token.lineno, value))
            piece = _HOLE
        elif token.token_type is TokenType.TEXT:
            piece = token.contents
        else:  # {# comment #}
            piece = _HOLE
        text.append(piece)
        line = token.lineno or 1
        for char in piece:
            lines.append(line)
            line += char == "\n"
    reader = _Reader(name, lines)
    reader.feed_text("".join(text))
    return found + reader.found
