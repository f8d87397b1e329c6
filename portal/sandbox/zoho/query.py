"""Conditions over records, shared by search criteria, COQL and Bulk Read, compiled to SQL over the record
table (fields live in the row's JSON, the system times and owners in columns)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portal.sandbox.zoho import catalog
from portal.sandbox.zoho.catalog import FieldDef, ModuleDef
from portal.sandbox.zoho.values import parse_datetime, parse_id

COLUMN_FIELDS = {"id": "id", "Created_Time": "created_at", "Modified_Time": "modified_at",
                 "Created_By": "created_by", "Modified_By": "modified_by"}
ID_FIELD = FieldDef("id", "Record Id", "bigint", length=19, read_only=True)


class QueryError(ValueError):
    """A condition names a field or value the module cannot take; the caller maps it to its API's error."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


@dataclass
class Compare:
    field: str
    operator: str  # equals, contains, not_equal, starts_with, ends_with, in, not_in, greater_than, ...
    values: list[Any]


@dataclass
class Group:
    operator: str  # and, or
    items: list[Compare | Group | Via]


@dataclass
class Via:
    """A condition on a field of the record a lookup points to (COQL ``Account_Name.Industry = 'x'``)."""

    lookup: str
    org_id: str
    target: ModuleDef
    condition: Compare


Condition = Compare | Group | Via


def count_conditions(condition: Condition) -> int:
    if isinstance(condition, Compare | Via):
        return 1
    return sum(count_conditions(item) for item in condition.items)


def field_of(module: ModuleDef, name: str) -> FieldDef:
    if name == "id":
        return ID_FIELD
    f = module.field_map.get(name)
    if f is None or f.data_type == "subform":
        raise QueryError("invalid field", api_name=name)
    return f


def expression(name: str) -> tuple[str, tuple[Any, ...]]:
    column = COLUMN_FIELDS.get(name)
    if column is not None:
        return column, ()
    return "json_extract(data, ?)", (f"$.{name}",)


def comparable(f: FieldDef, raw: Any) -> Any:
    """A condition's value in the stored form of the field (datetimes as epoch seconds, ids as text)."""
    if raw is None:
        return None
    data_type = f.data_type
    text = raw if isinstance(raw, str) else None
    if f.api_name == "id":
        parsed = parse_id(raw)
        if parsed is None:
            raise QueryError("invalid value", api_name=f.api_name)
        return int(parsed)
    if data_type == "datetime":
        if text is None:
            raise QueryError("invalid value", api_name=f.api_name)
        try:
            return parse_datetime(text)
        except ValueError:
            raise QueryError("invalid value", api_name=f.api_name, expected_data_type="datetime") from None
    if data_type in catalog.NUMBER_TYPES:
        if isinstance(raw, bool):
            raise QueryError("invalid value", api_name=f.api_name)
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise QueryError("invalid value", api_name=f.api_name, expected_data_type=data_type) from None
    if data_type == "boolean":
        if isinstance(raw, bool):
            return 1 if raw else 0
        if text in ("true", "false"):
            return 1 if text == "true" else 0
        raise QueryError("invalid value", api_name=f.api_name, expected_data_type="boolean")
    if data_type in catalog.LOOKUP_TYPES:
        parsed = parse_id(raw)
        if parsed is None:
            raise QueryError("invalid value", api_name=f.api_name, expected_data_type="jsonobject")
        return parsed
    return str(raw)


TEXT_LIKE = catalog.TEXT_TYPES | {"multiselectpicklist"}
ORDERED = {"greater_than": ">", "greater_equal": ">=", "less_than": "<", "less_equal": "<="}


def compile_condition(module: ModuleDef, condition: Condition, params: list[Any]) -> str:
    if isinstance(condition, Group):
        joiner = f" {condition.operator.upper()} "
        return "(" + joiner.join(compile_condition(module, item, params) for item in condition.items) + ")"
    if isinstance(condition, Via):
        lookup = field_of(module, condition.lookup)
        if lookup.data_type != "lookup":
            raise QueryError("invalid field", api_name=condition.lookup)
        params.extend((f"$.{lookup.api_name}", condition.org_id, condition.target.api_name))
        inner = compile_condition(condition.target, condition.condition, params)
        return ("(json_extract(data, ?) IN (SELECT CAST(id AS TEXT) FROM zoho_record "  # noqa: S608
                f"WHERE org_id = ? AND module = ? AND {inner}))")
    f = field_of(module, condition.field)
    sql, expression_params = expression(f.api_name)
    operator = condition.operator
    text = f.data_type in TEXT_LIKE and f.api_name not in COLUMN_FIELDS
    if operator in ("is_null", "is_not_null"):
        params.extend(expression_params)
        return f"({sql} IS {'NOT ' if operator == 'is_not_null' else ''}NULL)"
    values = [comparable(f, value) for value in condition.values]
    clause_params: list[Any] = list(expression_params)
    negated = operator in ("not_equal", "not_contains", "not_like", "not_in", "not_between")
    if operator in ("equals", "not_equal"):
        clause_params.append(values[0])
        clause = f"lower({sql}) = lower(?)" if text else f"{sql} = ?"
    elif operator in ("contains", "not_contains", "starts_with", "ends_with", "like", "not_like"):
        if not text:
            raise QueryError("invalid operator", api_name=f.api_name, operator=operator)
        pattern = str(values[0]).lower()
        if operator in ("like", "not_like"):
            clause_params.append(pattern)
            clause = f"lower({sql}) LIKE ?"
        else:
            escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            clause_params.append({"contains": f"%{escaped}%", "not_contains": f"%{escaped}%",
                                  "starts_with": f"{escaped}%", "ends_with": f"%{escaped}"}[operator])
            clause = f"lower({sql}) LIKE ? ESCAPE '\\'"
    elif operator in ("in", "not_in"):
        marks = ",".join("?" * len(values))
        if text:
            clause_params.extend(str(value).lower() for value in values)
            clause = f"lower({sql}) IN ({marks})"
        else:
            clause_params.extend(values)
            clause = f"{sql} IN ({marks})"
    elif operator in ORDERED:
        if text and f.data_type != "date":
            raise QueryError("invalid operator", api_name=f.api_name, operator=operator)
        clause_params.append(values[0])
        clause = f"{sql} {ORDERED[operator]} ?"
    elif operator in ("between", "not_between"):
        if len(values) != 2:
            raise QueryError("between takes two values", api_name=f.api_name, operator=operator)
        clause_params.extend(values)
        clause = f"{sql} BETWEEN ? AND ?"
    else:
        raise QueryError("invalid operator", api_name=f.api_name, operator=operator)
    if not negated:
        params.extend(clause_params)
        return f"({clause})"
    # Negations match records without a value too, as "not equal" does in Zoho's criteria.
    params.extend(expression_params)
    params.extend(clause_params)
    return f"(({sql}) IS NULL OR NOT ({clause}))"


def order_clause(module: ModuleDef, order: list[tuple[str, str]]) -> str:
    parts = []
    for name, direction in order:
        f = field_of(module, name)
        column = COLUMN_FIELDS.get(f.api_name)
        target = column if column else f"json_extract(data, '$.{f.api_name}')"
        parts.append(f"{target} {'DESC' if direction == 'desc' else 'ASC'}")
    return ", ".join(parts)
