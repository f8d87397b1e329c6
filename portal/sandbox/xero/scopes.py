"""OAuth scopes: which ones exist and which grant each Accounting resource.

Broad scopes come from the OAS; granular scopes (2026) are mapped here because OAS 16.1.0 does not list them
(FACTS.md §1): ``accounting.transactions`` splits into ``accounting.invoices`` (Invoices, CreditNotes, Items, ...),
``accounting.payments`` (Payments, ...), ``accounting.banktransactions`` and ``accounting.manualjournals``;
``accounting.reports.read`` splits into per-report scopes. Each write scope also grants reads; ``.read`` only reads.
"""

from __future__ import annotations

IDENTITY_SCOPES = {
    "openid": "Your identity (single sign-on)",
    "profile": "Your first name, last name and Xero user id",
    "email": "Your email address",
    "offline_access": "Access to your data when you are not using the app",
}

ACCOUNTING_SCOPES = {
    "accounting.transactions": "View and manage your business transactions",
    "accounting.transactions.read": "View your business transactions",
    "accounting.invoices": "View and manage invoices, credit notes, quotes, purchase orders and items",
    "accounting.invoices.read": "View invoices, credit notes, quotes, purchase orders and items",
    "accounting.payments": "View and manage payments, overpayments and prepayments",
    "accounting.payments.read": "View payments, overpayments and prepayments",
    "accounting.banktransactions": "View and manage bank transactions and transfers",
    "accounting.banktransactions.read": "View bank transactions and transfers",
    "accounting.manualjournals": "View and manage manual journals",
    "accounting.manualjournals.read": "View manual journals",
    "accounting.contacts": "View and manage your contacts",
    "accounting.contacts.read": "View your contacts",
    "accounting.settings": "View and manage your organisation settings",
    "accounting.settings.read": "View your organisation settings",
    "accounting.attachments": "View and manage your attachments",
    "accounting.attachments.read": "View your attachments",
    "accounting.reports.read": "View your reports",
    "accounting.reports.profitandloss.read": "View your profit and loss report",
    "accounting.reports.banksummary.read": "View your bank summary report",
    "accounting.reports.aged.read": "View your aged payables and receivables reports",
    "accounting.reports.balancesheet.read": "View your balance sheet",
    "accounting.reports.trialbalance.read": "View your trial balance",
    "accounting.journals.read": "View your journals",
    "accounting.budgets.read": "View your budgets",
}

KNOWN_SCOPES = {**IDENTITY_SCOPES, **ACCOUNTING_SCOPES}

# resource -> the write scopes that grant it (each with its ``.read`` variant for GET)
RESOURCE_SCOPES: dict[str, tuple[str, ...]] = {
    "Contacts": ("accounting.contacts",),
    "Invoices": ("accounting.transactions", "accounting.invoices"),
    "CreditNotes": ("accounting.transactions", "accounting.invoices"),
    "Payments": ("accounting.transactions", "accounting.payments"),
    # Xero: Items are reachable under both accounting.invoices and accounting.settings (FACTS.md §1)
    "Items": ("accounting.settings", "accounting.invoices"),
    "Accounts": ("accounting.settings",),
    "TaxRates": ("accounting.settings",),
    "Currencies": ("accounting.settings",),
    "Organisation": ("accounting.settings",),
}

REPORT_SCOPES: dict[str, str] = {
    "ProfitAndLoss": "accounting.reports.profitandloss.read",
    "BankSummary": "accounting.reports.banksummary.read",
    "AgedReceivablesByContact": "accounting.reports.aged.read",
}


def parse_scope(text: str | None) -> list[str]:
    return [scope for scope in (text or "").split() if scope]


def allows(granted: set[str], resource: str, write: bool) -> bool:
    if resource.startswith("Reports/"):
        report = resource.split("/", 1)[1]
        return "accounting.reports.read" in granted or REPORT_SCOPES.get(report, "") in granted
    for scope in RESOURCE_SCOPES.get(resource, ()):
        if scope in granted or (not write and f"{scope}.read" in granted):
            return True
    return False


def has_accounting_scope(scopes: list[str]) -> bool:
    return any(scope in ACCOUNTING_SCOPES for scope in scopes)
