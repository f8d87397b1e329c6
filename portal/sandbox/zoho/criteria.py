"""The search API's ``criteria`` syntax: ``((Field:operator:value)and(Field:operator:value))``.

Zoho: commas, parentheses and a trailing backslash in values are escaped with a backslash; at most 10
conditions; ``in`` takes up to 100 comma-separated values (FACTS.md §3, search).
"""

from __future__ import annotations

from portal.sandbox.zoho.query import Compare, Condition, Group, QueryError

OPERATORS = ("equals", "not_equal", "starts_with", "in", "greater_than", "greater_equal", "less_than",
             "less_equal", "between")
MAX_CONDITIONS = 10
MAX_IN_VALUES = 100


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0

    def fail(self, reason: str) -> QueryError:
        return QueryError("invalid query formed", reason=reason, position=self.position)

    def peek(self) -> str:
        return self.text[self.position] if self.position < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected '{char}'")
        self.position += 1

    def parse(self) -> Condition:
        condition = self.group()
        if self.position != len(self.text):
            raise self.fail("unexpected text after the criteria")
        return condition

    def group(self) -> Condition:
        self.expect("(")
        if self.peek() == "(":
            items = [self.group()]
            operator = None
            while self.peek() != ")":
                word = self.word()
                if word not in ("and", "or"):
                    raise self.fail("expected 'and' or 'or'")
                if operator is not None and word != operator:
                    # Mixed operators at one level are ambiguous: Zoho needs them grouped.
                    raise self.fail("group mixed and/or conditions with parentheses")
                operator = word
                items.append(self.group())
            self.expect(")")
            return items[0] if len(items) == 1 else Group(operator or "and", items)
        condition = self.condition()
        self.expect(")")
        return condition

    def word(self) -> str:
        start = self.position
        while self.peek().isalpha():
            self.position += 1
        return self.text[start:self.position].lower()

    def condition(self) -> Compare:
        name = self.until(":")
        self.expect(":")
        operator = self.until(":")
        self.expect(":")
        if operator not in OPERATORS:
            raise QueryError("invalid operator found", operator=operator, api_name=name)
        values = self.values()
        if operator in ("in",) and len(values) > MAX_IN_VALUES:
            raise QueryError("too many values", operator=operator, api_name=name, limit=MAX_IN_VALUES)
        if operator == "between" and len(values) != 2:
            raise QueryError("between takes two values", operator=operator, api_name=name)
        if operator not in ("in", "between"):
            values = [",".join(values)]
        return Compare(name.strip(), operator, list(values))

    def until(self, stop: str) -> str:
        start = self.position
        while self.peek() and self.peek() not in (stop, ")", "("):
            self.position += 1
        return self.text[start:self.position]

    def values(self) -> list[str]:
        values: list[str] = []
        current: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise self.fail("unterminated condition")
            if char == "\\":
                self.position += 1
                escaped = self.peek()
                if not escaped:
                    raise self.fail("dangling escape")
                current.append(escaped)
                self.position += 1
                continue
            if char == ")":
                values.append("".join(current))
                return values
            if char == "(":
                raise self.fail("unescaped '(' in a value")
            if char == ",":
                values.append("".join(current))
                current = []
                self.position += 1
                continue
            current.append(char)
            self.position += 1


def parse_criteria(text: str) -> Condition:
    condition = _Parser(text.strip()).parse()
    if _count(condition) > MAX_CONDITIONS:
        raise QueryError("criteria limit exceeded", limit=MAX_CONDITIONS)
    return condition


def _count(condition: Condition) -> int:
    if isinstance(condition, Group):
        return sum(_count(item) for item in condition.items)
    return 1
