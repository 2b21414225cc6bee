"""Recursive-descent parser: query text -> ``Query``.

Grammar (section 13.3 of the reference): ``[condition] [order by ...] [limit n] [offset n]``,
options only in that order; ``and`` binds tighter than ``or``; keywords are case-insensitive,
function names are upper-case. A word in condition position starts the options when it is
``order`` followed by ``by``, or ``limit``/``offset`` followed by a number, so a field may still be
called ``limit``. Any deviation raises CB_VA01 with the query syntax message.
"""

from __future__ import annotations

from .ast import And, Call, Condition, Num, Or, Predicate, Query, SortKey, Str, Value
from .dates import DATE_FUNCTIONS
from .lexer import Token, syntax_error, tokenize

# Deeper parenthesis nesting is refused as a syntax error rather than exhausting the recursion
# of this parser and the compiler (real Kintone's limit is unknown).
MAX_NESTING = 100
FUNCTIONS = DATE_FUNCTIONS | {"LOGINUSER", "PRIMARY_ORGANIZATION", "NOW"}
_END = Token("END", "")


class _Parser:
    def __init__(self, tokens: list[Token], lang: str) -> None:
        self.tokens = tokens
        self.pos = 0
        self.lang = lang
        self.depth = 0

    # -- token helpers -------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else _END

    def next(self) -> Token:
        token = self.peek()
        if token is _END:
            raise syntax_error(self.lang)
        self.pos += 1
        return token

    def expect(self, kind: str) -> Token:
        token = self.next()
        if token.kind != kind:
            raise syntax_error(self.lang)
        return token

    def is_keyword(self, word: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "WORD" and token.text.lower() == word

    def keyword(self, word: str) -> None:
        if not self.is_keyword(word):
            raise syntax_error(self.lang)
        self.pos += 1

    # -- query ---------------------------------------------------------------------------------

    def query(self) -> Query:
        where = None if self.at_options() else self.or_expr()
        order_by = self.order_clause() if self.is_keyword("order") else ()
        limit = self.int_clause("limit")
        offset = self.int_clause("offset")
        if self.peek() is not _END:
            raise syntax_error(self.lang)
        return Query(where, order_by, limit, offset)

    def at_options(self) -> bool:
        if self.peek() is _END:
            return True
        if self.is_keyword("order"):
            return self.is_keyword("by", 1)
        paging = self.is_keyword("limit") or self.is_keyword("offset")
        return paging and self.peek(1).kind == "NUM"

    def order_clause(self) -> tuple[SortKey, ...]:
        self.keyword("order")
        self.keyword("by")
        keys = [self.sort_key()]
        while self.peek().kind == "COMMA":
            self.pos += 1
            keys.append(self.sort_key())
        return tuple(keys)

    def sort_key(self) -> SortKey:
        field = self.expect("WORD").text
        if self.is_keyword("asc") or self.is_keyword("desc"):
            return SortKey(field, self.next().text.lower() == "desc")
        return SortKey(field)

    def int_clause(self, word: str) -> int | None:
        if not self.is_keyword(word):
            return None
        self.pos += 1
        text = self.expect("NUM").text
        if "." in text:
            raise syntax_error(self.lang)
        return int(text)

    # -- condition -----------------------------------------------------------------------------

    def or_expr(self) -> Condition:
        terms = [self.and_expr()]
        while self.is_keyword("or"):
            self.pos += 1
            terms.append(self.and_expr())
        return terms[0] if len(terms) == 1 else Or(_flatten(terms, Or))

    def and_expr(self) -> Condition:
        terms = [self.term()]
        while self.is_keyword("and"):
            self.pos += 1
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else And(_flatten(terms, And))

    def term(self) -> Condition:
        if self.peek().kind == "LP":
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise syntax_error(self.lang)
            self.pos += 1
            inner = self.or_expr()
            self.expect("RP")
            self.depth -= 1
            return inner
        return self.predicate()

    def predicate(self) -> Predicate:
        field = self.expect("WORD").text
        token = self.next()
        if token.kind == "OP":
            return Predicate(field, token.text, (self.scalar(),))
        if token.kind != "WORD":
            raise syntax_error(self.lang)
        word = token.text.lower()
        if word == "not":
            word = "not " + self.expect("WORD").text.lower()
        if word in ("in", "not in"):
            return Predicate(field, word, self.value_list())
        if word in ("like", "not like"):
            return Predicate(field, word, (Str(self.expect("STR").text),))
        if word == "is":
            negated = self.is_keyword("not")
            if negated:
                self.pos += 1
            self.keyword("empty")
            return Predicate(field, "is not empty" if negated else "is empty")
        raise syntax_error(self.lang)

    def value_list(self) -> tuple[Value, ...]:
        self.expect("LP")
        values = [self.scalar()]
        while self.peek().kind == "COMMA":
            self.pos += 1
            values.append(self.scalar())
        self.expect("RP")
        return tuple(values)

    def scalar(self) -> Value:
        token = self.next()
        if token.kind == "STR":
            return Str(token.text)
        if token.kind == "NUM":
            return Num(token.text)
        if token.kind == "WORD" and token.text in FUNCTIONS and self.peek().kind == "LP":
            return self.call(token.text)
        raise syntax_error(self.lang)

    def call(self, name: str) -> Call:
        self.expect("LP")
        args: list[str] = []
        if self.peek().kind != "RP":
            args.append(self.argument())
            while self.peek().kind == "COMMA":
                self.pos += 1
                args.append(self.argument())
        self.expect("RP")
        return Call(name, tuple(args))

    def argument(self) -> str:
        token = self.next()
        if token.kind not in ("NUM", "WORD"):
            raise syntax_error(self.lang)
        return token.text


def _flatten(terms: list[Condition], kind: type[And] | type[Or]) -> tuple[Condition, ...]:
    """``a and (b and c)`` is one and-group: it matters for same-row subtable matching."""
    flat: list[Condition] = []
    for term in terms:
        flat.extend(term.terms if isinstance(term, kind) else (term,))
    return tuple(flat)


def parse_query(text: str, *, lang: str = "en") -> Query:
    """Parse a Kintone query; raises ``KintoneError`` CB_VA01 (``errors.query``) on bad syntax."""
    return _Parser(tokenize(text, lang), lang).query()

