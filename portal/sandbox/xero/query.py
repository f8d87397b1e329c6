"""Xero's ``where`` and ``order`` parameters, compiled to SQL over the emulator's tables.

Xero evaluates ``where`` as a C# Dynamic LINQ expression (FACTS.md §3, "Filters"). The subset emulated here is
what integrations use: ``==``/``=``, ``!=``/``<>``, ``<``, ``<=``, ``>``, ``>=``, ``AND``/``&&``, ``OR``/``||``,
``NOT``/``!``, parentheses, ``guid("…")``, ``DateTime(y,m,d[,h,m,s])``, ``DateTime.Parse("…")``, ``.StartsWith``,
``.EndsWith``, ``.Contains``, ``== null``/``!= null``, ``true``/``false`` and bare boolean fields.

Like Xero, a filter that does not parse, names a field the resource does not have, or compares operands of the
wrong types (``Contact.ContactID == "…"`` instead of ``guid("…")``) answers 400 ``QueryParseException``; whatever
this subset does not cover is refused the same way rather than silently ignored. String comparisons are
case-insensitive (Xero filters run on SQL Server's case-insensitive collation).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from portal.sandbox.xero.errors import query_parse_error

KIND_NAMES = {"string": "String", "number": "Decimal", "bool": "Boolean", "date": "DateTime", "guid": "Guid"}


@dataclass(frozen=True)
class Field:
    sql: str
    kind: str  # string, number, bool, date, guid


def column(name: str, kind: str = "string") -> Field:
    return Field(name, kind)


def json_field(path: str, kind: str = "string") -> Field:
    return Field(f"json_extract(data, '$.{path}')", kind)


@dataclass(frozen=True)
class Queryable:
    """What ``where`` and ``order`` may name for one resource (keys are lower-cased dotted paths)."""

    type_name: str
    fields: dict[str, Field]
    default_order: str

    def field(self, path: str) -> Field:
        found = self.fields.get(path.lower())
        if found is None:
            raise query_parse_error(f"No property or field '{path.split('.')[-1]}' exists in type "
                                    f"'{self._owner(path)}'")
        return found

    def _owner(self, path: str) -> str:
        parts = path.split(".")
        return parts[-2] if len(parts) > 1 else self.type_name


# --- tokens ---------------------------------------------------------------------------------------------------

TOKEN = re.compile(r"""
    \s*(?:
        (?P<string>"(?:[^"\\]|\\.|"")*")
      | (?P<number>\d+(?:\.\d+)?)
      | (?P<op>==|!=|<>|>=|<=|&&|\|\||[=<>!(),.-])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str  # string, number, op, name, end
    text: str
    value: Any = None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    stripped_end = len(text.rstrip())
    while position < stripped_end:
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise query_parse_error(f"Syntax error '{text[position:position + 1].strip() or text[position:]}'")
        position = match.end()
        if match.group("string") is not None:
            raw = match.group("string")[1:-1]
            value = raw.replace('""', '"').replace('\\"', '"').replace("\\\\", "\\")
            tokens.append(Token("string", raw, value))
        elif match.group("number") is not None:
            tokens.append(Token("number", match.group("number"), match.group("number")))
        elif match.group("op") is not None:
            tokens.append(Token("op", match.group("op")))
        else:
            tokens.append(Token("name", match.group("name")))
    tokens.append(Token("end", ""))
    return tokens


# --- values and compiled fragments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    kind: str  # string, number, bool, date, guid, null
    value: Any


@dataclass(frozen=True)
class FieldRef:
    path: str
    field: Field


@dataclass(frozen=True)
class Sql:
    text: str
    params: tuple[Any, ...] = ()


LITERAL_TYPE_NAMES = {"string": "String", "number": "Int32", "bool": "Boolean", "date": "DateTime",
                      "guid": "Guid", "null": "Object"}


class WhereCompiler:
    def __init__(self, queryable: Queryable, text: str) -> None:
        self.queryable = queryable
        self.tokens = tokenize(text)
        self.index = 0

    # token helpers
    def peek(self) -> Token:
        return self.tokens[self.index]

    def take(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept_op(self, *ops: str) -> str | None:
        token = self.peek()
        if token.kind == "op" and token.text in ops:
            self.index += 1
            return token.text
        return None

    def accept_word(self, *words: str) -> bool:
        token = self.peek()
        if token.kind == "name" and token.text.upper() in words:
            self.index += 1
            return True
        return False

    def expect_op(self, op: str) -> None:
        if self.accept_op(op) is None:
            raise query_parse_error(f"'{op}' expected")

    # grammar
    def compile(self) -> Sql:
        if self.peek().kind == "end":
            raise query_parse_error("Expression expected")
        result = self.or_expression()
        if self.peek().kind != "end":
            raise query_parse_error(f"Syntax error '{self.peek().text}'")
        return result

    def or_expression(self) -> Sql:
        parts = [self.and_expression()]
        while self.accept_op("||") or self.accept_word("OR"):
            parts.append(self.and_expression())
        return _join(parts, "OR")

    def and_expression(self) -> Sql:
        parts = [self.unary()]
        while self.accept_op("&&") or self.accept_word("AND"):
            parts.append(self.unary())
        return _join(parts, "AND")

    def unary(self) -> Sql:
        if self.accept_op("!") or self.accept_word("NOT"):
            inner = self.unary()
            return Sql(f"NOT ({inner.text})", inner.params)
        return self.primary()

    def primary(self) -> Sql:
        if self.accept_op("("):
            inner = self.or_expression()
            self.expect_op(")")
            return Sql(f"({inner.text})", inner.params)
        left = self.operand()
        op = self.accept_op("==", "=", "!=", "<>", ">=", "<=", ">", "<")
        if op is None:
            if isinstance(left, Sql):
                return left  # a method call such as Name.StartsWith("A")
            if isinstance(left, FieldRef) and left.field.kind == "bool":
                return Sql(f"COALESCE({left.field.sql}, 0) = 1")
            raise query_parse_error("Expression of type 'Boolean' expected")
        right = self.operand()
        return self.comparison(op, left, right)

    def operand(self) -> Literal | FieldRef | Sql:
        token = self.take()
        if token.kind == "string":
            return Literal("string", token.value)
        if token.kind == "number":
            return Literal("number", float(token.value) if "." in token.value else int(token.value))
        if token.kind == "op" and token.text == "-" and self.peek().kind == "number":
            number = self.take().value
            return Literal("number", -(float(number) if "." in number else int(number)))
        if token.kind != "name":
            raise query_parse_error("Expression expected")
        word = token.text
        upper = word.upper()
        if upper in ("TRUE", "FALSE"):
            return Literal("bool", upper == "TRUE")
        if upper == "NULL":
            return Literal("null", None)
        if upper == "GUID" and self.peek().text == "(":
            return Literal("guid", self.guid_call())
        if upper == "DATETIME" and self.peek().text in ("(", "."):
            return Literal("date", self.datetime_call())
        path = [word]
        while self.accept_op("."):
            member = self.take()
            if member.kind != "name":
                raise query_parse_error("Identifier expected")
            if self.peek().text == "(":
                return self.method_call(".".join(path), member.text)
            path.append(member.text)
        dotted = ".".join(path)
        return FieldRef(dotted, self.queryable.field(dotted))

    def arguments(self) -> list[Literal]:
        self.expect_op("(")
        values: list[Literal] = []
        if self.accept_op(")"):
            return values
        while True:
            value = self.operand()
            if not isinstance(value, Literal):
                raise query_parse_error("Function arguments must be constants")
            values.append(value)
            if self.accept_op(")"):
                return values
            self.expect_op(",")

    def guid_call(self) -> str:
        args = self.arguments()
        if len(args) != 1 or args[0].kind != "string":
            raise query_parse_error("No applicable method 'Guid' exists for these arguments")
        try:
            return str(uuid.UUID(args[0].value))
        except ValueError:
            raise query_parse_error(f"'{args[0].value}' is not a valid Guid") from None

    def datetime_call(self) -> int:
        if self.accept_op("."):
            method = self.take()
            if method.kind != "name" or method.text.upper() != "PARSE":
                raise query_parse_error(f"No applicable method '{method.text}' exists in type 'DateTime'")
            args = self.arguments()
            if len(args) != 1 or args[0].kind != "string":
                raise query_parse_error("No applicable method 'Parse' exists in type 'DateTime'")
            try:
                parsed = datetime.fromisoformat(str(args[0].value).replace("Z", "+00:00"))
            except ValueError:
                raise query_parse_error(f"String '{args[0].value}' was not recognized as a valid DateTime.") \
                    from None
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return int(parsed.timestamp() * 1000)
        args = self.arguments()
        if not 3 <= len(args) <= 6 or any(arg.kind != "number" for arg in args):
            raise query_parse_error("No applicable constructor exists in type 'DateTime'")
        year, month, day, hour, minute, second = [int(arg.value) for arg in args] + [0] * (6 - len(args))
        try:
            moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        except ValueError as error:
            raise query_parse_error(f"Invalid DateTime: {error}") from None
        return int(moment.timestamp() * 1000)

    def method_call(self, path: str, method: str) -> Sql:
        field = self.queryable.field(path)
        args = self.arguments()
        name = method.upper()
        if name not in ("STARTSWITH", "ENDSWITH", "CONTAINS"):
            raise query_parse_error(f"No applicable method '{method}' exists in type "
                                    f"'{KIND_NAMES[field.kind]}' (the sandbox supports StartsWith, EndsWith "
                                    "and Contains)")
        if field.kind != "string" or len(args) != 1 or args[0].kind != "string":
            raise query_parse_error(f"No applicable method '{method}' exists in type '{KIND_NAMES[field.kind]}'")
        escaped = str(args[0].value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = {"STARTSWITH": f"{escaped}%", "ENDSWITH": f"%{escaped}", "CONTAINS": f"%{escaped}%"}[name]
        return Sql(f"{field.sql} LIKE ? ESCAPE '\\'", (pattern,))

    def comparison(self, op: str, left: Literal | FieldRef | Sql, right: Literal | FieldRef | Sql) -> Sql:
        if isinstance(left, Literal) and isinstance(right, FieldRef):
            left, right = right, left
            op = {">": "<", "<": ">", ">=": "<=", "<=": ">="}.get(op, op)
        if not isinstance(left, FieldRef) or not isinstance(right, Literal):
            raise query_parse_error("The sandbox compares a field with a constant only")
        field = left.field
        sql_op = {"==": "=", "=": "=", "!=": "<>", "<>": "<>"}.get(op, op)
        if right.kind == "null":
            if sql_op not in ("=", "<>"):
                raise query_parse_error(f"Operator '{op}' incompatible with operand types "
                                        f"'{KIND_NAMES[field.kind]}' and 'Object'")
            empty = f"{field.sql} IS NULL" + (f" OR {field.sql} = ''" if field.kind == "string" else "")
            return Sql(f"({empty})" if sql_op == "=" else f"NOT ({empty})")
        compatible = field.kind == right.kind or (field.kind == "number" and right.kind == "number")
        if not compatible:
            raise query_parse_error(f"Operator '{op}' incompatible with operand types "
                                    f"'{KIND_NAMES[field.kind]}' and '{LITERAL_TYPE_NAMES[right.kind]}'")
        if field.kind in ("string", "guid", "bool") and sql_op not in ("=", "<>"):
            raise query_parse_error(f"Operator '{op}' incompatible with operand types "
                                    f"'{KIND_NAMES[field.kind]}' and '{LITERAL_TYPE_NAMES[right.kind]}'")
        value: Any = right.value
        if field.kind == "bool":
            value = 1 if right.value else 0
            target = f"COALESCE({field.sql}, 0)"
        else:
            target = field.sql
        collate = " COLLATE NOCASE" if field.kind in ("string", "guid") else ""
        if sql_op == "<>":
            # C#: null != "x" is true, where SQL's NULL <> 'x' is unknown.
            return Sql(f"({target} IS NULL OR {target} <> ?{collate})", (value,))
        return Sql(f"{target} {sql_op} ?{collate}", (value,))


def _join(parts: list[Sql], word: str) -> Sql:
    if len(parts) == 1:
        return parts[0]
    params: tuple[Any, ...] = ()
    for part in parts:
        params += part.params
    return Sql(f" {word} ".join(f"({part.text})" for part in parts), params)


def compile_where(queryable: Queryable, text: str) -> Sql:
    return WhereCompiler(queryable, text).compile()


ORDER_PART = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(?:\s(ASC|DESC|ASCENDING|DESCENDING))?\s*$", re.IGNORECASE)


def compile_order(queryable: Queryable, text: str | None) -> str:
    if not text or not text.strip():
        return queryable.default_order
    clauses = []
    for part in text.split(","):
        match = ORDER_PART.match(part)
        if match is None:
            raise query_parse_error(f"Syntax error in order '{part.strip()}'")
        field = queryable.field(match.group(1))
        direction = "DESC" if (match.group(2) or "").upper().startswith("DESC") else "ASC"
        collate = " COLLATE NOCASE" if field.kind == "string" else ""
        clauses.append(f"{field.sql}{collate} {direction}")
    return ", ".join(clauses)
