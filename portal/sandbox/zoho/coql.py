"""COQL, the subset a sync needs: ``select f1, f2, Lookup.Field from Module where <conditions> order by f
[asc|desc] limit offset, count``.

Zoho (FACTS.md §7; Kaizen #171 on COQL): the WHERE clause is required (``where id is not null`` lists all);
more than two conditions must be grouped in pairs, ``((A and B) and C)``; at most 50 columns, 25 conditions,
``in`` with at most 50 values and 2,000 rows per call; LIMIT/OFFSET paging stops at 10,000 rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from portal.sandbox.zoho.query import Compare, Condition, Group, count_conditions

MAX_COLUMNS = 50
MAX_CONDITIONS = 25
MAX_IN_VALUES = 50
MAX_LIMIT = 2000
MAX_ROWS = 10_000
DEFAULT_LIMIT = 200

TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<dstring>"(?:[^"]|"")*")
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op>!=|<>|>=|<=|=|>|<)
  | (?P<punct>[(),])
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)?)
""", re.VERBOSE)
KEYWORDS = {"select", "from", "where", "and", "or", "order", "by", "asc", "desc", "limit", "offset", "in", "not",
            "like", "is", "null", "between", "true", "false"}
OPERATORS = {"=": "equals", "!=": "not_equal", "<>": "not_equal", ">": "greater_than", ">=": "greater_equal",
             "<": "less_than", "<=": "less_equal"}


class CoqlError(ValueError):
    def __init__(self, code: str, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


@dataclass
class Token:
    kind: str
    text: str
    position: int

    @property
    def keyword(self) -> str | None:
        lowered = self.text.lower()
        return lowered if self.kind == "name" and lowered in KEYWORDS else None


@dataclass
class Query:
    columns: list[str]
    module: str
    where: Condition
    order: list[tuple[str, str]] = field(default_factory=list)
    offset: int = 0
    limit: int = DEFAULT_LIMIT


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = TOKEN.match(text, position)
        if match is None:
            raise CoqlError("SYNTAX_ERROR", "error occurred while parsing the query",
                            near=text[position:position + 20], column=position + 1, line=1)
        kind = match.lastgroup or ""
        if kind != "space":
            value = match.group()
            if kind == "string":
                value = value[1:-1].replace("''", "'")
            elif kind == "dstring":
                # Zoho: reserved words used as column names are quoted (Kaizen #171).
                kind, value = "name", value[1:-1].replace('""', '"')
            tokens.append(Token(kind, value, position))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.clause = "select"

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def fail(self, token: Token | None = None) -> CoqlError:
        token = token or self.peek()
        near = token.text if token else "end of query"
        return CoqlError("SYNTAX_ERROR", "error occurred while parsing the query", clause=self.clause, near=near,
                         line=1, column=(token.position + 1) if token else 0)

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise self.fail()
        self.index += 1
        return token

    def keyword(self, *words: str) -> str | None:
        token = self.peek()
        if token is not None and token.keyword in words:
            self.index += 1
            return token.keyword
        return None

    def expect_keyword(self, word: str) -> None:
        if self.keyword(word) is None:
            raise self.fail()

    def name(self) -> str:
        token = self.next()
        if token.kind != "name" or token.keyword is not None:
            raise self.fail(token)
        return token.text

    def parse(self) -> Query:
        self.expect_keyword("select")
        columns = [self.name()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.next()
            columns.append(self.name())
        self.clause = "from"
        self.expect_keyword("from")
        module = self.name()
        self.clause = "where"
        if self.keyword("where") is None:
            raise self.fail()
        where = self.condition()
        query = Query(columns, module, where)
        if self.keyword("order"):
            self.clause = "order by"
            self.expect_keyword("by")
            while True:
                name = self.name()
                direction = self.keyword("asc", "desc") or "asc"
                query.order.append((name, direction))
                token = self.peek()
                if token is None or token.text != ",":
                    break
                self.next()
        if self.keyword("limit"):
            self.clause = "limit"
            first = self.integer()
            token = self.peek()
            if token is not None and token.text == ",":
                self.next()
                query.offset, query.limit = first, self.integer()
            else:
                query.limit = first
                if self.keyword("offset"):
                    query.offset = self.integer()
        if self.peek() is not None:
            raise self.fail()
        return query

    def integer(self) -> int:
        token = self.next()
        if token.kind != "number" or "." in token.text or token.text.startswith("-"):
            raise self.fail(token)
        return int(token.text)

    def condition(self) -> Condition:
        left = self.term()
        operator = self.keyword("and", "or")
        if operator is None:
            return left
        right = self.term()
        token = self.peek()
        if token is not None and token.keyword in ("and", "or"):
            # Zoho: more than two criteria must be grouped in pairs, ((A and B) and C) (Kaizen #171).
            raise self.fail(token)
        return Group(operator, [left, right])

    def term(self) -> Condition:
        token = self.peek()
        if token is not None and token.text == "(":
            self.next()
            inner = self.condition()
            closing = self.next()
            if closing.text != ")":
                raise self.fail(closing)
            return inner
        name = self.name()
        negated = self.keyword("not") is not None
        if self.keyword("is"):
            is_not = self.keyword("not") is not None
            if negated or self.keyword("null") is None:
                raise self.fail()
            return Compare(name, "is_not_null" if is_not else "is_null", [])
        if self.keyword("in"):
            values = self.value_list()
            if len(values) > MAX_IN_VALUES:
                raise CoqlError("LIMIT_EXCEEDED", "maximum values limit in in-operator exceeded",
                                clause="where", limit=MAX_IN_VALUES, operator="in")
            return Compare(name, "not_in" if negated else "in", values)
        if self.keyword("like"):
            return Compare(name, "not_like" if negated else "like", [self.value()])
        if self.keyword("between"):
            low = self.value()
            self.expect_keyword("and")
            return Compare(name, "not_between" if negated else "between", [low, self.value()])
        if negated:
            raise self.fail()
        token = self.next()
        if token.kind != "op":
            raise self.fail(token)
        return Compare(name, OPERATORS[token.text], [self.value()])

    def value(self) -> Any:
        token = self.next()
        if token.kind == "string":
            return token.text
        if token.kind == "number":
            return float(token.text) if "." in token.text else int(token.text)
        if token.keyword in ("true", "false"):
            return token.keyword == "true"
        if token.keyword == "null":
            return None
        raise self.fail(token)

    def value_list(self) -> list[Any]:
        opening = self.next()
        if opening.text != "(":
            raise self.fail(opening)
        values = [self.value()]
        while True:
            token = self.next()
            if token.text == ")":
                return values
            if token.text != ",":
                raise self.fail(token)
            values.append(self.value())


def parse(text: str) -> Query:
    query = _Parser(text).parse()
    if len(query.columns) > MAX_COLUMNS:
        raise CoqlError("LIMIT_EXCEEDED", "maximum column limit exceeded", clause="select", limit=MAX_COLUMNS)
    if count_conditions(query.where) > MAX_CONDITIONS:
        raise CoqlError("LIMIT_EXCEEDED", "maximum criteria limit exceeded", clause="where", limit=MAX_CONDITIONS)
    if query.limit < 1 or query.limit > MAX_LIMIT:
        raise CoqlError("LIMIT_EXCEEDED", "limit exceeded", clause="limit", by="limit", limit=MAX_LIMIT)
    if query.offset + query.limit > MAX_ROWS:
        raise CoqlError("LIMIT_EXCEEDED", "limit exceeded", clause="limit", by="offset", limit=MAX_ROWS)
    return query
