"""Field mapping rules: what a rule is, how it reads and writes each side, and which rules are refused.

A :class:`Rule` pairs Zoho field(s) with one Xero field, with a direction (→ Zoho to Xero, ← Xero to Zoho,
↔ both), and optionally a picklist value map, a fixed value or one transform from the short SAFE list in
:data:`TRANSFORMS` (no eval, no expressions). Field paths are Zoho API names / Xero names, with two small
extensions: ``Account_Name.id`` walks into a dict, and ``Addresses[AddressType=STREET].City`` selects (or,
when
writing, creates) the list element whose ``AddressType`` is ``STREET``.

Rule kinds: ``field`` copies a value; ``ref`` translates an id through the record links of another entity
(an invoice's ``Account_Name.id`` becomes the linked ``Contact.ContactID``); ``lines`` is the invoice
line-item
table (see :mod:`portal.sync.invoices`).
"""

from __future__ import annotations

import copy
import enum
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.sync.messages import N_, Msg, msg


class Arrow(enum.StrEnum):
    TO_XERO = "->"
    TO_ZOHO = "<-"
    BOTH = "<->"

    @property
    def to_xero(self) -> bool:
        return self in (Arrow.TO_XERO, Arrow.BOTH)

    @property
    def to_zoho(self) -> bool:
        return self in (Arrow.TO_ZOHO, Arrow.BOTH)


# Type families a rule's two ends are checked against (Zoho's data_type vocabulary folds into these).
ZOHO_TYPE_FAMILY = {
    "text": "text",
    "textarea": "text",
    "autonumber": "text",
    "formula": "text",
    "email": "email",
    "phone": "phone",
    "website": "url",
    "picklist": "picklist",
    "multiselectpicklist": "multipicklist",
    "integer": "number",
    "bigint": "number",
    "double": "number",
    "currency": "number",
    "percent": "number",
    "decimal": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "lookup": "lookup",
    "ownerlookup": "lookup",
    "userlookup": "lookup",
    "subform": "lines",
    "lines": "lines",
}

# Which source family may feed which target family. Text takes any scalar; the reverse needs a transform.
COMPATIBLE: dict[str, set[str]] = {
    "text": {"text", "email", "phone", "url", "picklist", "number", "date", "datetime", "boolean"},
    "email": {"email", "text"},
    "phone": {"phone", "text"},
    "url": {"url", "text"},
    "picklist": {"picklist", "text", "boolean"},
    "multipicklist": {"multipicklist"},
    "number": {"number"},
    "date": {"date", "datetime"},
    "datetime": {"datetime", "date"},
    "boolean": {"boolean", "picklist"},
    "lookup": {"lookup"},
    "lines": {"lines"},
}


# --- paths -------------------------------------------------------------------------------------------------

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)(?:\[(?P<key>[A-Za-z_]+)=(?P<value>[^\]]*)\])?$")


@dataclass(frozen=True)
class _Segment:
    name: str
    key: str | None
    value: str | None


def _parse(path: str) -> tuple[_Segment, ...]:
    cached = _PATH_CACHE.get(path)
    if cached is not None:
        return cached
    segments = []
    for raw in path.split("."):
        match = _SEGMENT.match(raw)
        if not match:
            raise ValueError(f"bad field path {path!r}")
        segments.append(_Segment(match["name"], match["key"], match["value"]))
    result = tuple(segments)
    _PATH_CACHE[path] = result
    return result


_PATH_CACHE: dict[str, tuple[_Segment, ...]] = {}


def get_path(record: Mapping[str, Any] | None, path: str) -> Any:
    node: Any = record
    for segment in _parse(path):
        if not isinstance(node, Mapping):
            return None
        node = node.get(segment.name)
        if segment.key is not None:
            if not isinstance(node, list):
                return None
            node = next(
                (e for e in node if isinstance(e, Mapping) and e.get(segment.key) == segment.value), None
            )
    return node


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    segments = _parse(path)
    node: dict[str, Any] = record
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment.key is None:
            if last:
                node[segment.name] = value
                return
            child = node.get(segment.name)
            if not isinstance(child, dict):
                child = {}
                node[segment.name] = child
            node = child
            continue
        items = node.get(segment.name)
        if not isinstance(items, list):
            items = []
            node[segment.name] = items
        element = next(
            (e for e in items if isinstance(e, dict) and e.get(segment.key) == segment.value), None
        )
        if element is None:
            element = {segment.key: segment.value}
            items.append(element)
        if last:
            raise ValueError(f"a path cannot end on a list selector: {path!r}")
        node = element


def top_key(path: str) -> str:
    return _parse(path)[0].name


# --- canonical values and hashes ---------------------------------------------------------------------------


def to_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def canonical(value: Any, family: str = "text") -> Any:
    """One spelling per value, so that a value that round-trips through either API compares equal:
    ``10``, ``10.0`` and ``"10.00"`` are one number; ``""`` and None are one absence."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if family == "number" or (isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)):
        number = to_decimal(value)
        if number is None:
            return str(value)
        text = format(number.normalize(), "f")
        return "0" if text in ("-0", "0") else text
    if family == "date":
        return str(value)[:10]
    if isinstance(value, Mapping):
        items = {k: canonical(v) for k, v in value.items()}
        return {k: v for k, v in sorted(items.items()) if v is not None} or None
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def digest(view: Any) -> str:
    return hashlib.sha256(
        json.dumps(view, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()[:32]


# --- transforms (the SAFE list) ----------------------------------------------------------------------------


class TransformError(ValueError):
    pass


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _join(values: Sequence[Any], separator: str = " ") -> Any:
    parts = [_text(v).strip() for v in values if _text(v).strip()]
    return separator.join(parts) or None


_DATE_FORMATS = {
    "DD/MM/YYYY": "%d/%m/%Y",
    "MM/DD/YYYY": "%m/%d/%Y",
    "YYYY-MM-DD": "%Y-%m-%d",
    "DD.MM.YYYY": "%d.%m.%Y",
}


def _format_date(value: Any, pattern: str = "YYYY-MM-DD") -> Any:
    if value in (None, ""):
        return None
    try:
        parsed = date.fromisoformat(str(value)[:10])
    except ValueError as error:
        raise TransformError(f"not a date: {value!r}") from error
    return parsed.strftime(_DATE_FORMATS[pattern])


def _parse_date(value: Any, pattern: str = "YYYY-MM-DD") -> Any:
    if value in (None, ""):
        return None
    try:
        return datetime.strptime(str(value), _DATE_FORMATS[pattern]).date().isoformat()
    except ValueError as error:
        raise TransformError(f"not a date in {pattern}: {value!r}") from error


def _truncate(value: Any, length: str = "255") -> Any:
    return None if value is None else _text(value)[: int(length)]


@dataclass(frozen=True)
class Transform:
    label: str
    forward: Callable[..., Any]  # Zoho -> Xero; receives the source values (one per zoho path) and args
    backward: Callable[..., Any] | None  # Xero -> Zoho for ↔/← rules; None: one-way only
    multi_source: bool = False
    arg_choices: tuple[str, ...] = ()


TRANSFORMS: dict[str, Transform] = {
    "join": Transform(
        N_("Join with spaces (e.g. first and last name)"),
        lambda values, *args: _join(values, *args),
        None,
        multi_source=True,
    ),
    "trim": Transform(
        N_("Trim spaces"),
        lambda v: None if v is None else _text(v).strip() or None,
        lambda v: None if v is None else _text(v).strip() or None,
    ),
    "upper": Transform(N_("UPPER CASE"), lambda v: None if v is None else _text(v).upper(), lambda v: v),
    "lower": Transform(N_("lower case"), lambda v: None if v is None else _text(v).lower(), lambda v: v),
    "truncate": Transform(
        N_("Cut to a maximum length"), _truncate, lambda v, *a: v, arg_choices=("30", "50", "255")
    ),
    "date_format": Transform(
        N_("Write a date as text"), _format_date, _parse_date, arg_choices=tuple(_DATE_FORMATS)
    ),
    "date_only": Transform(
        N_("Date part of a date-time"), lambda v: None if v is None else str(v)[:10], lambda v: v
    ),
}


# --- rules -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    zoho: tuple[str, ...]  # Zoho path(s); empty for a fixed value written to Zoho
    xero: str  # Xero path; "" for a fixed value written to Zoho only
    arrow: Arrow = Arrow.BOTH
    kind: str = "field"  # field | ref | lines
    ref: str | None = None  # kind=ref: the entity whose links translate the id ("customer", "item")
    transform: str | None = None
    transform_args: tuple[str, ...] = ()
    values: Mapping[str, str] | None = None  # picklist: Zoho value -> Xero value (reversed for ←)
    fixed: Any = None  # the constant written to the target side (Xero for →, Zoho for ←)
    family: str = "text"  # the value family, for canonical comparison
    label: str = ""  # how the editor names the pair when the field names alone say too little
    create_only: bool = False  # written when the record is created, never on updates (external keys)

    @property
    def key(self) -> str:
        left = "+".join(self.zoho) if self.zoho else "=" + json.dumps(self.fixed)
        return f"{left}|{self.xero}"

    @property
    def is_fixed(self) -> bool:
        return self.fixed is not None

    # Reading one side ------------------------------------------------------------------------------------

    def zoho_raw(self, record: Mapping[str, Any]) -> Any:
        if not self.zoho:
            return None
        if len(self.zoho) == 1:
            return canonical(get_path(record, self.zoho[0]), self.family)
        return [canonical(get_path(record, p), self.family) for p in self.zoho]

    def xero_raw(self, record: Mapping[str, Any]) -> Any:
        if not self.xero:
            return None
        return canonical(get_path(record, self.xero), self.family)

    # Converting ------------------------------------------------------------------------------------------

    def forward(self, zoho_raw: Any) -> Any:
        """The Xero value for a Zoho value (before reference translation)."""
        if self.is_fixed:
            return canonical(self.fixed, self.family)
        value = zoho_raw
        if self.transform:
            transform = TRANSFORMS[self.transform]
            if transform.multi_source:
                value = transform.forward(value if isinstance(value, list) else [value], *self.transform_args)
            else:
                value = transform.forward(value, *self.transform_args)
        if self.values and value is not None:
            value = self.values.get(str(value), value)
        return canonical(value, self.family)

    def backward(self, xero_raw: Any) -> Any:
        """The Zoho value for a Xero value (single-source rules only)."""
        if self.is_fixed:
            return canonical(self.fixed, self.family)
        value = xero_raw
        if self.values and value is not None:
            reverse = {v: k for k, v in reversed(list(self.values.items()))}
            value = reverse.get(str(value), value)
        if self.transform:
            backward = TRANSFORMS[self.transform].backward
            if backward is None:
                raise TransformError(f"{self.transform} is one-way")
            value = backward(value, *self.transform_args)
        return canonical(value, self.family)

    # Persistence ------------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"zoho": list(self.zoho), "xero": self.xero, "arrow": str(self.arrow)}
        for name in ("kind", "ref", "transform", "values", "fixed", "family", "label", "create_only"):
            value = getattr(self, name)
            default = Rule.__dataclass_fields__[name].default
            if value != default:
                data[name] = dict(value) if isinstance(value, Mapping) else value
        if self.transform_args:
            data["transform_args"] = list(self.transform_args)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Rule:
        zoho = data.get("zoho") or ()
        return cls(
            zoho=(zoho,) if isinstance(zoho, str) else tuple(zoho),
            xero=str(data.get("xero") or ""),
            arrow=Arrow(data.get("arrow", "<->")),
            kind=str(data.get("kind", "field")),
            ref=data.get("ref"),
            transform=data.get("transform"),
            transform_args=tuple(data.get("transform_args") or ()),
            values=dict(data["values"]) if data.get("values") else None,
            fixed=data.get("fixed"),
            family=str(data.get("family", "text")),
            label=str(data.get("label", "")),
            create_only=bool(data.get("create_only", False)),
        )


def rule(zoho: str | Sequence[str] | None, xero: str, arrow: str = "<->", **options: Any) -> Rule:
    """Shorthand for the defaults table: ``rule("Phone", "Phones[PhoneType=DEFAULT].PhoneNumber")``."""
    paths: tuple[str, ...] = () if zoho is None else ((zoho,) if isinstance(zoho, str) else tuple(zoho))
    return Rule(zoho=paths, xero=xero, arrow=Arrow(arrow), **options)


@dataclass(frozen=True)
class PairMapping:
    """The rules of one module pair at one version."""

    pair: str
    rules: tuple[Rule, ...]
    version: int = 0  # 0: the built-in default; saved versions count from 1
    line_rules: tuple[Rule, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": [r.to_json() for r in self.rules],
            "line_rules": [r.to_json() for r in self.line_rules],
        }

    @classmethod
    def from_json(cls, pair: str, version: int, data: Mapping[str, Any]) -> PairMapping:
        return cls(
            pair=pair,
            version=version,
            rules=tuple(Rule.from_json(r) for r in data.get("rules", ())),
            line_rules=tuple(Rule.from_json(r) for r in data.get("line_rules", ())),
        )

    def zoho_fields(self) -> set[str]:
        return {top_key(p) for r in self.rules for p in r.zoho}

    def xero_fields(self) -> set[str]:
        return {top_key(r.xero) for r in self.rules if r.xero}


# --- checks ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldType:
    family: str
    read_only: bool = False
    max_length: int | None = None
    picklist: tuple[str, ...] = ()


def family_of_zoho(data_type: str) -> str:
    return ZOHO_TYPE_FAMILY.get(data_type, "text")


def check_rule(rule_: Rule, zoho_type: FieldType | None, xero_type: FieldType | None) -> Msg | None:
    """Why a rule is refused, or None when it is fine. ``*_type`` is None when the field is unknown."""
    if rule_.transform and rule_.transform not in TRANSFORMS:
        return msg(N_("%(transform)s is not one of the available transforms."), transform=rule_.transform)
    transform = TRANSFORMS.get(rule_.transform or "")
    if (
        transform
        and transform.arg_choices
        and rule_.transform_args
        and rule_.transform_args[0] not in transform.arg_choices
    ):
        return msg(N_("%(value)s is not a choice of this transform."), value=rule_.transform_args[0])
    if len(rule_.zoho) > 1 and not (transform and transform.multi_source):
        return msg(N_("Several Zoho fields can only go into one Xero field through a joining transform."))
    if transform and transform.multi_source and rule_.arrow.to_zoho:
        return msg(N_("Joined fields cannot be split again: this pair can only go from Zoho to Xero."))
    if rule_.is_fixed and rule_.arrow is Arrow.BOTH:
        return msg(N_("A fixed value goes one way: choose Zoho to Xero or Xero to Zoho."))
    if rule_.is_fixed:
        target_type = xero_type if rule_.arrow.to_xero else zoho_type
        if target_type is not None and target_type.read_only:
            return msg(N_("This field is read-only in the target system."))
        return None
    if not rule_.zoho or not rule_.xero:
        return msg(N_("Choose a field on both sides, or a fixed value."))
    if zoho_type is None:
        return msg(N_("The Zoho field %(field)s does not exist."), field=rule_.zoho[0])
    if xero_type is None:
        return msg(N_("The Xero field %(field)s does not exist."), field=rule_.xero)
    if rule_.arrow.to_xero and xero_type.read_only:
        return msg(N_("Xero computes %(field)s itself: it cannot be written."), field=rule_.xero)
    if rule_.arrow.to_zoho and zoho_type.read_only:
        return msg(N_("Zoho computes %(field)s itself: it cannot be written."), field=rule_.zoho[0])
    if rule_.kind == "ref" or zoho_type.family == "lookup" or xero_type.family == "lookup":
        if rule_.kind != "ref":
            return msg(N_("A lookup can only be paired with a linked record, not with a plain value."))
        return None
    checks = []
    if rule_.arrow.to_xero:
        source = "text" if transform and transform.multi_source else zoho_type.family
        if rule_.transform == "date_format":
            source = "text"
        checks.append((source, xero_type.family if rule_.transform != "date_format" else "text"))
    if rule_.arrow.to_zoho:
        checks.append((xero_type.family, zoho_type.family))
    for source, target in checks:
        if source not in COMPATIBLE.get(target, {target}) and not (rule_.values and target == "picklist"):
            return msg(
                N_("A %(source)s value cannot go into a %(target)s field."),
                source=TYPE_NAMES.get(source, source),
                target=TYPE_NAMES.get(target, target),
            )
    if zoho_type.family == "picklist" and rule_.values and rule_.arrow.to_zoho:
        unknown = sorted(set(rule_.values) - set(zoho_type.picklist)) if zoho_type.picklist else []
        if unknown:
            return msg(N_("%(values)s is not a value of the Zoho picklist."), values=", ".join(unknown))
    return None


TYPE_NAMES = {
    "text": N_("text"),
    "email": N_("email"),
    "phone": N_("phone"),
    "url": N_("web address"),
    "picklist": N_("picklist"),
    "multipicklist": N_("multi-select picklist"),
    "number": N_("number"),
    "date": N_("date"),
    "datetime": N_("date-time"),
    "boolean": N_("yes/no"),
    "lookup": N_("lookup"),
    "lines": N_("line items"),
}


def check_mapping(
    mapping: PairMapping, zoho_types: Mapping[str, FieldType], xero_types: Mapping[str, FieldType]
) -> dict[str, Msg]:
    """Refusals by rule key; the keys of the fields looked up are the rules' first path segments."""
    problems: dict[str, Msg] = {}
    seen_targets: dict[str, str] = {}
    for rule_ in mapping.rules:
        if rule_.kind == "lines":
            continue
        zoho_type = zoho_types.get(top_key(rule_.zoho[0])) if rule_.zoho else None
        xero_type = xero_types.get(rule_.xero) or (
            xero_types.get(top_key(rule_.xero)) if rule_.xero else None
        )
        problem = check_rule(rule_, zoho_type, xero_type)
        if problem is None and rule_.arrow.to_xero and rule_.xero:
            if rule_.xero in seen_targets:
                problem = msg(N_("%(field)s is already filled by another pair."), field=rule_.xero)
            seen_targets[rule_.xero] = rule_.key
        if problem is not None:
            problems[rule_.key] = problem
    return problems


def deep_copy_top(record: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    return {k: copy.deepcopy(record[k]) for k in keys if k in record}
