"""Versioned mappings: save a new version, read the current one, or read exactly the version a run pinned.

Versions are append-only rows (:class:`portal.models.sync.MappingVersion`); version 0 is the built-in default
and
is never stored. A run pins ``{pair: version}`` when it starts (:meth:`MappingSet.pins`) and loads exactly
those,
so saving the mapping page half-way through a historical run changes nothing for that run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal.models.sync import MappingVersion
from portal.sync import mapping_defaults as defaults
from portal.sync.mapping import PairMapping, Rule


def default_for(pair: str, customer_module: str = "Accounts") -> PairMapping:
    mapping = defaults.default_mapping(pair)
    if customer_module == "Contacts" and pair in (defaults.INVOICES, defaults.DEALS):
        # The customer lookup of invoices and deals is Contact_Name when Contacts are the customers.
        rules = tuple(
            Rule.from_json({**r.to_json(), "zoho": ["Contact_Name.id"]}) if r.ref == "customer" else r
            for r in mapping.rules
        )
        mapping = PairMapping(pair=pair, rules=rules, version=0, line_rules=mapping.line_rules)
    return mapping


@dataclass
class MappingSet:
    """The mappings a run uses, by pair."""

    customer_module: str = "Accounts"
    mappings: dict[str, PairMapping] = field(default_factory=dict)

    def get(self, pair: str) -> PairMapping:
        found = self.mappings.get(pair)
        if found is None:
            found = default_for(pair, self.customer_module)
            self.mappings[pair] = found
        return found

    def pins(self) -> dict[str, int]:
        return {pair: m.version for pair, m in self.mappings.items()}


def latest_versions(session: Session, tenant_id: int) -> dict[str, int]:
    rows = session.execute(
        select(MappingVersion.pair, func.max(MappingVersion.version))
        .where(MappingVersion.tenant_id == tenant_id)
        .group_by(MappingVersion.pair)
    ).all()
    return {pair: int(version) for pair, version in rows}


def load_mappings(
    session: Session,
    tenant_id: int,
    pins: Mapping[str, int] | None = None,
    customer_module: str = "Accounts",
    pairs: Iterable[str] | None = None,
) -> MappingSet:
    """Pinned versions when ``pins`` is given (a resumed run), else the latest saved version of every pair."""
    versions = dict(pins) if pins is not None else latest_versions(session, tenant_id)
    result = MappingSet(customer_module=customer_module)
    wanted = {p: v for p, v in versions.items() if v > 0 and (pairs is None or p in set(pairs))}
    if wanted:
        rows = session.scalars(
            select(MappingVersion).where(
                MappingVersion.tenant_id == tenant_id, MappingVersion.pair.in_(list(wanted))
            )
        ).all()
        for row in rows:
            if wanted.get(row.pair) == row.version:
                result.mappings[row.pair] = PairMapping.from_json(row.pair, row.version, row.rules)
    for pair, version in versions.items():
        if version == 0:
            result.mappings[pair] = default_for(pair, customer_module)
    return result


def save_mapping(
    session: Session, tenant_id: int, mapping: PairMapping, *, user_id: int | None = None, note: str = ""
) -> PairMapping:
    """Store ``mapping`` as the pair's next version and return it with that version number (the caller
    commits)."""
    current = (
        session.scalar(
            select(func.max(MappingVersion.version)).where(
                MappingVersion.tenant_id == tenant_id, MappingVersion.pair == mapping.pair
            )
        )
        or 0
    )
    version = int(current) + 1
    session.add(
        MappingVersion(
            tenant_id=tenant_id,
            pair=mapping.pair,
            version=version,
            rules=mapping.to_json(),
            created_by_id=user_id,
            note=note,
        )
    )
    session.flush()
    return PairMapping(pair=mapping.pair, rules=mapping.rules, version=version, line_rules=mapping.line_rules)
