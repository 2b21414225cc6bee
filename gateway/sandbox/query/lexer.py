"""Tokens of a Kintone query.

Whitespace between tokens is any of space, tab, CR, LF and the ideographic space U+3000. Field
codes, keywords, function names and bare function arguments are all WORD tokens (a run of
characters up to the next delimiter); the parser decides what a word means from its position.
Strings are double-quoted with the escapes ``\\" \\\\ \\t \\n \\r``; any other escape and a raw
tab/CR/LF inside a literal are syntax errors, as on real Kintone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import KintoneError, message

WHITESPACE = " \t\r\n\u3000"
_SKIP = re.compile(r"[ \t\r\n\u3000]*")
_WORD = re.compile(r'[^ \t\r\n\u3000()",=!<>]+')
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_OPERATOR = re.compile(r"!=|>=|<=|=|>|<")
_PLAIN = re.compile(r'[^"\\\t\r\n]+')
_ESCAPES = {'"': '"', "\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
_PUNCTUATION = {"(": "LP", ")": "RP", ",": "COMMA"}


@dataclass(frozen=True)
class Token:
    kind: str  # WORD, NUM, STR, OP, LP, RP, COMMA
    text: str  # the word/operator as written, the number text, or the decoded string


def syntax_error(lang: str = "en") -> KintoneError:
    return KintoneError("CB_VA01", errors={"query": [message("query_syntax", lang)]})


def _string(text: str, start: int, lang: str) -> tuple[str, int]:
    """Decode the literal whose opening quote is at ``start``; return it and the end index."""
    parts: list[str] = []
    pos = start + 1
    while pos < len(text):
        plain = _PLAIN.match(text, pos)
        if plain:
            parts.append(plain.group())
            pos = plain.end()
            continue
        char = text[pos]
        if char == '"':
            return "".join(parts), pos + 1
        if char != "\\" or text[pos + 1 : pos + 2] not in _ESCAPES:
            raise syntax_error(lang)
        parts.append(_ESCAPES[text[pos + 1]])
        pos += 2
    raise syntax_error(lang)


def tokenize(text: str, lang: str = "en") -> list[Token]:
    tokens: list[Token] = []
    pos = _SKIP.match(text).end()
    while pos < len(text):
        char = text[pos]
        if char == '"':
            value, pos = _string(text, pos, lang)
            tokens.append(Token("STR", value))
        elif char in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[char], char))
            pos += 1
        elif op := _OPERATOR.match(text, pos):
            tokens.append(Token("OP", op.group()))
            pos = op.end()
        elif word := _WORD.match(text, pos):
            kind = "NUM" if _NUMBER.fullmatch(word.group()) else "WORD"
            tokens.append(Token(kind, word.group()))
            pos = word.end()
        else:  # a lone "!"
            raise syntax_error(lang)
        pos = _SKIP.match(text, pos).end()
    return tokens
