"""Connected Zoho CRM and Xero for pages that read metadata, without the sandboxes: fakes of the two connector
clients' metadata calls (the same method names and shapes as ZohoClient / XeroClient), counting every call.

Use the ``remote`` fixture (import it into a conftest): ``remote.connect(tenant)`` marks both connections as
connected and routes ``zoho_client`` / ``xero_client`` to the fakes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from portal.connectors.errors import ConnectorError, RateLimited
from portal.extensions import db
from portal.models import ConnectionStatus, Side, utcnow
from portal.services import connections
from portal.sync.mapping_defaults import ZOHO_FIELDS
from portal.sync.ports import FieldInfo


def zoho_json(info: FieldInfo) -> dict[str, Any]:
    """A field as GET /settings/fields returns it (FACTS.md Zoho §4, OAS fields.json)."""
    data: dict[str, Any] = {"api_name": info.api_name, "data_type": info.data_type, "field_label": info.label,
                            "display_label": info.label, "custom_field": info.custom, "read_only": info.read_only,
                            "system_mandatory": info.mandatory, "id": f"41508680000{len(info.api_name):08d}"}
    if info.picklist_values:
        data["pick_list_values"] = [{"display_value": v, "actual_value": v, "id": str(i), "type": "used"}
                                    for i, v in enumerate(info.picklist_values)]
    if info.lookup_module:
        data["lookup"] = {"module": {"api_name": info.lookup_module, "id": "1"}}
    return data


ORG_CUSTOM_FIELDS = {
    "Accounts": [FieldInfo("VAT_Number", "text", label="VAT Number", custom=True),
                 FieldInfo("Customer_Tier", "picklist", label="Customer Tier", custom=True,
                           picklist_values=("Gold", "Silver", "Bronze"))],
    "Deals": [],
}
ORG_DEAL_STAGES = ("Prospecting", "Proposal", "Won (signed)", "Lost")

XERO_ACCOUNTS = [
    {"AccountID": "a1", "Code": "200", "Name": "Sales", "Type": "REVENUE", "Class": "REVENUE", "Status": "ACTIVE",
     "TaxType": "OUTPUT2"},
    {"AccountID": "a2", "Code": "260", "Name": "Other Revenue", "Type": "OTHERINCOME", "Class": "REVENUE",
     "Status": "ACTIVE"},
    {"AccountID": "a3", "Code": "400", "Name": "Advertising", "Type": "EXPENSE", "Class": "EXPENSE",
     "Status": "ACTIVE"},
    {"AccountID": "a4", "Code": "210", "Name": "Old Sales", "Type": "REVENUE", "Class": "REVENUE",
     "Status": "ARCHIVED"},
]
XERO_TAX_RATES = [
    {"Name": "15% GST on Income", "TaxType": "OUTPUT2", "EffectiveRate": "15.0", "DisplayTaxRate": "15.0",
     "Status": "ACTIVE", "CanApplyToRevenue": True},
    {"Name": "GST on Expenses", "TaxType": "INPUT2", "EffectiveRate": "15.0", "Status": "ACTIVE",
     "CanApplyToRevenue": False},
    {"Name": "Zero Rated", "TaxType": "ZERORATEDOUTPUT", "EffectiveRate": "0.0", "DisplayTaxRate": "0.0",
     "Status": "ACTIVE", "CanApplyToRevenue": True},
]


@dataclass
class RemoteMetadata:
    calls: Counter[str] = field(default_factory=Counter)
    failure: ConnectorError | None = None
    custom_fields: dict[str, list[FieldInfo]] = field(default_factory=lambda: {k: list(v) for k, v in
                                                                               ORG_CUSTOM_FIELDS.items()})
    deal_stages: tuple[str, ...] = ORG_DEAL_STAGES

    def _call(self, name: str) -> None:
        self.calls[name] += 1
        if self.failure is not None:
            raise self.failure

    # ZohoClient
    def modules(self) -> list[dict[str, Any]]:
        self._call("zoho modules")
        return [{"api_name": m, "module_name": m, "plural_label": m, "api_supported": True,
                 "generated_type": "custom" if m == "Xero_Accounts" else "default"} for m in ZOHO_FIELDS]

    def fields(self, module: str) -> list[dict[str, Any]]:
        self._call(f"zoho fields {module}")
        standard = [f for f in ZOHO_FIELDS.get(module, ()) if f.api_name != "Stage"]
        if module == "Deals":
            standard.append(FieldInfo("Stage", "picklist", label="Stage", mandatory=True,
                                      picklist_values=self.deal_stages))
        return [zoho_json(f) for f in [*standard, *self.custom_fields.get(module, [])]]

    # XeroClient
    def all(self, resource: str, **kwargs: Any) -> list[dict[str, Any]]:
        self._call(f"xero {resource}")
        return {"Accounts": XERO_ACCOUNTS, "TaxRates": XERO_TAX_RATES,
                "Currencies": [{"Code": "NZD", "Description": "New Zealand Dollar"},
                               {"Code": "USD", "Description": "United States Dollar"}]}[resource]

    def organisation(self) -> dict[str, Any]:
        self._call("xero Organisation")
        return {"OrganisationID": "org-1", "Name": "Demo Company (NZ)", "BaseCurrency": "NZD",
                "PeriodLockDate": "/Date(1704067200000+0000)/", "SalesTaxBasis": "INVOICE"}

    def connect(self, tenant: Any, zoho_org: str = "zoho-org-1", xero_org: str = "xero-org-1") -> None:
        for side, org in ((Side.ZOHO, zoho_org), (Side.XERO, xero_org)):
            connection = connections.connection_for(tenant, side)
            connection.status = ConnectionStatus.CONNECTED
            connection.remote_org_id = org
            connection.remote_org_name = f"{tenant.name} ({side.value})"
            connection.connected_at = utcnow()
            if side is Side.ZOHO:
                connection.zoho_api_domain = "https://www.zohoapis.eu"
        db.session.commit()

    def rate_limited(self) -> None:
        self.failure = RateLimited("You have exceeded the rate limit", 30.0, status=429)


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch) -> Iterator[RemoteMetadata]:
    fake = RemoteMetadata()
    monkeypatch.setattr(connections, "zoho_client", lambda connection: fake)
    monkeypatch.setattr(connections, "xero_client", lambda connection: fake)
    yield fake
