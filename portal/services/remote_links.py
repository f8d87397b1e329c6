"""Links to a record in Xero's and Zoho CRM's own web apps (or in the sandboxes' record editors)."""

from __future__ import annotations

from portal.services import connections

# The Xero module an entity of the engine lives in (portal/sync/specs.py).
XERO_MODULE_OF_ENTITY = {"customer": "Contacts", "person": "Contacts", "item": "Items", "account": "Accounts",
                         "invoice": "Invoices", "deal": "Invoices"}

# Xero's web app (the organisation the user last opened in Xero is the one shown).
XERO_APP_PATHS = {
    "Contacts": "https://go.xero.com/Contacts/View/{id}",
    "Invoices": "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID={id}",
    "Items": "https://go.xero.com/Accounts/Inventory/{id}",
    "Accounts": "https://go.xero.com/GeneralLedger/ChartOfAccounts.aspx",
}
XERO_SANDBOX_PATHS = {"Contacts": "contacts", "Invoices": "invoices", "Items": "items"}


def xero_record_url(module: str, xero_id: str | None, xero_org_id: str | None) -> str | None:
    if not xero_id:
        return None
    settings = connections.settings()
    if settings.xero_uses_sandbox:
        path = XERO_SANDBOX_PATHS.get(module)
        if path is None or not xero_org_id:
            return None
        return f"{settings.sandbox_url}/xero/_sandbox/books/{xero_org_id}/{path}/{xero_id}"
    template = XERO_APP_PATHS.get(module)
    return template.format(id=xero_id) if template else None


# Zoho CRM's web app per data centre (the ``location`` of the consent, FACTS.md §1).
ZOHO_CRM_HOSTS = {"us": "crm.zoho.com", "eu": "crm.zoho.eu", "in": "crm.zoho.in", "au": "crm.zoho.com.au",
                  "jp": "crm.zoho.jp", "ca": "crm.zohocloud.ca", "cn": "crm.zoho.com.cn", "sa": "crm.zoho.sa"}


def zoho_record_url(module: str, zoho_id: str | None, zoho_org_id: str | None,
                    location: str | None = None) -> str | None:
    if not zoho_id or not zoho_org_id:
        return None
    settings = connections.settings()
    if settings.zoho_uses_sandbox:
        return f"{settings.sandbox_url}/zoho/_sandbox/org/{zoho_org_id}/{module}/{zoho_id}"
    host = ZOHO_CRM_HOSTS.get((location or "us").lower(), "crm.zoho.com")
    return f"https://{host}/crm/org{zoho_org_id}/tab/{module}/{zoho_id}"
