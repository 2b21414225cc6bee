"""Word tokens for Kintone's ``like`` operator (full-text search, not substring matching).

Kintone searches a full-text index: alphanumeric words match only as whole words, CJK text is
matched by 2-character n-grams, and matching ignores case and character width. Most symbols
separate words; ``_``, ``#`` and ``+`` belong to words. The same ``tokenize`` is applied to
stored text (``record_words``) and to the search term, and a term matches when every one of its
tokens is present.
"""

from __future__ import annotations

import html
import re
import unicodedata

# Kana, CJK ideographs and Hangul. Half-width katakana and full-width Latin need no entry: NFKC
# maps them to full-width kana and ASCII first. The katakana middle dot (U+30FB) is punctuation.
_CJK = (
    "\u1100-\u11ff\u3005-\u3007\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fc-\u30ff"
    "\u3130-\u318f\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
    "\U00020000-\U0002fa1f"
)
_TOKEN = re.compile(rf"([{_CJK}]+)|((?:[^\W{_CJK}]|[#+])+)")

# Inline tags do not separate words ("<b>key</b>word" reads as "keyword"); all other tags do.
_INLINE_TAG = re.compile(
    r"</?(?:a|b|i|u|s|em|strong|span|font|strike|sub|sup|small|big|code|mark)\b[^>]*>",
    re.IGNORECASE,
)
_TAG = re.compile(r"<[^>]*>")


def normalize(text: str) -> str:
    """Width- and case-insensitive form of ``text``."""
    return unicodedata.normalize("NFKC", text).casefold()


def tokenize(text: str) -> list[str]:
    """The search tokens of ``text``, in order of appearance (duplicates kept)."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(normalize(text)):
        cjk, word = match.groups()
        if word is not None:
            tokens.append(word)
        elif len(cjk) == 1:
            tokens.append(cjk)
        else:
            tokens.extend(cjk[i : i + 2] for i in range(len(cjk) - 1))
    return tokens


def strip_html(text: str) -> str:
    """The visible text of a RICH_TEXT value: tags removed, entities decoded."""
    return html.unescape(_TAG.sub(" ", _INLINE_TAG.sub("", text)))
