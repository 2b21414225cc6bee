"""Word tokens of the ``like`` full-text search."""

from __future__ import annotations

import pytest

from gateway.sandbox.text_search import normalize, strip_html, tokenize


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("gamma keyword", ["gamma", "keyword"]),
        ("", []),
        ("   \t\n", []),
        ("Hello, World!", ["hello", "world"]),
        ("a-b/c.d:e;f", ["a", "b", "c", "d", "e", "f"]),
        ("x&y|z(w)[v]{u}^t~s*r?q'p`o=n<m>l,k\"j\\i$h%g@f", list("xyzwvutsrqponmlkjihgf")),
        ("snake_case C# C++ #tag", ["snake_case", "c#", "c++", "#tag"]),
        ("v1.2.3", ["v1", "2", "3"]),
        ("ÄÖÜ straße", ["äöü", "strasse"]),
    ],
)
def test_alphanumeric_words(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_width_and_case_are_folded() -> None:
    assert tokenize("ＡＢＣ１２３") == ["abc123"]
    assert tokenize("ｶﾀｶﾅ") == tokenize("カタカナ")
    assert normalize("ＡbＣ") == "abc"


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("日本語", ["日本", "本語"]),
        ("東京", ["東京"]),
        ("日", ["日"]),
        ("ひらがなです", ["ひら", "らが", "がな", "なで", "です"]),
        ("한국어", ["한국", "국어"]),
        ("日本・東京", ["日本", "東京"]),
        ("日本、東京。", ["日本", "東京"]),
        ("東京abc大阪", ["東京", "abc", "大阪"]),
        ("々〆", ["々〆"]),
    ],
)
def test_cjk_bigrams(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_full_width_space_separates() -> None:
    assert tokenize("日本\u3000語") == ["日本", "語"]


def test_strip_html_keeps_visible_text() -> None:
    assert tokenize(strip_html("<div>Hello <b>wor</b>ld</div><div>x&amp;y</div>")) == [
        "hello",
        "world",
        "x",
        "y",
    ]
    assert strip_html("<div><br></div>").strip() == ""
    assert "<" not in strip_html('<a href="x">link</a>')
