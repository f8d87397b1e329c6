"""The default mapping of every module pair, as data, in one place (documented in docs/mapping.md).

Pairs are named ``<Zoho module>><Xero module>``. Arrows: ``->`` Zoho to Xero, ``<-`` Xero to Zoho, ``<->``
both.
Custom fields the defaults write on the Zoho side (``Amount_Paid``, ``Outstanding_Balance``...) are created by
the connections setup; a tenant without them edits the pair (the editor refuses a rule whose field is
missing).

Virtual Xero fields starting with ``$`` are computed by the engine from the Xero record before mapping
(:func:`portal.sync.engine.payment_view`): ``$PaymentStatus`` (Paid, Partially paid, Overdue, Unpaid) and
``$LastPaymentDate``.
"""

from __future__ import annotations

from collections.abc import Mapping

from portal.sync.mapping import FieldType, PairMapping, Rule, rule
from portal.sync.messages import N_
from portal.sync.ports import FieldInfo

CUSTOMERS_FROM_ACCOUNTS = "Accounts>Contacts"
CUSTOMERS_FROM_CONTACTS = "Contacts>Contacts"
CONTACT_PERSONS = "Contacts>ContactPersons"
PRODUCTS = "Products>Items"
INVOICES = "Invoices>Invoices"
DEALS = "Deals>Invoices"
CHART = "Xero_Accounts>Accounts"
PAYMENTS = "Invoices<Payments"
BALANCES = "Accounts<Balances"


def _address(prefix: str, address_type: str, code_field: str) -> list[Rule]:
    base = f"Addresses[AddressType={address_type}]"
    return [
        rule(f"{prefix}_Street", f"{base}.AddressLine1"),
        rule(f"{prefix}_City", f"{base}.City"),
        rule(f"{prefix}_State", f"{base}.Region"),
        rule(f"{prefix}_{code_field}", f"{base}.PostalCode"),
        rule(f"{prefix}_Country", f"{base}.Country"),
    ]


DEFAULT_RULES: dict[str, list[Rule]] = {
    CUSTOMERS_FROM_ACCOUNTS: [
        rule("Account_Name", "Name"),
        # Xero: ContactNumber is an external key settable only through the API (FACTS.md §4 Contacts); the
        # Zoho id
        # there lets a crashed create be found again instead of duplicated.
        rule("id", "ContactNumber", "->", label=N_("Zoho record id"), create_only=True),
        rule("Account_Number", "AccountNumber"),
        rule("Phone", "Phones[PhoneType=DEFAULT].PhoneNumber"),
        rule("Fax", "Phones[PhoneType=FAX].PhoneNumber"),
        # Xero: a contact's Website is read-only in the API (OAS Contact.Website): it can only flow to Zoho.
        rule("Website", "Website", "<-"),
        *_address("Billing", "STREET", "Code"),
        *_address("Shipping", "POBOX", "Code"),
    ],
    CUSTOMERS_FROM_CONTACTS: [
        rule(("First_Name", "Last_Name"), "Name", "->", transform="join"),
        rule("id", "ContactNumber", "->", label=N_("Zoho record id"), create_only=True),
        rule("First_Name", "FirstName"),
        rule("Last_Name", "LastName"),
        rule("Email", "EmailAddress", family="email"),
        rule("Phone", "Phones[PhoneType=DEFAULT].PhoneNumber"),
        rule("Mobile", "Phones[PhoneType=MOBILE].PhoneNumber"),
        *_address("Mailing", "STREET", "Zip"),
        *_address("Other", "POBOX", "Zip"),
    ],
    # Relative to one element of the customer's ContactPersons (Xero allows 5).
    CONTACT_PERSONS: [
        rule("First_Name", "FirstName", "->"),
        rule("Last_Name", "LastName", "->"),
        rule("Email", "EmailAddress", "->", family="email"),
    ],
    PRODUCTS: [
        rule("Product_Code", "Code"),
        # Xero: item Name is at most 50 characters (FACTS.md §4 Items).
        rule("Product_Name", "Name", transform="truncate", transform_args=("50",)),
        rule("Description", "Description"),
        rule("Unit_Price", "SalesDetails.UnitPrice", family="number"),
    ],
    INVOICES: [
        rule("Account_Name.id", "Contact.ContactID", kind="ref", ref="customer", family="text"),
        rule("Invoice_Number", "InvoiceNumber"),
        rule("Invoice_Date", "Date", family="date"),
        rule("Due_Date", "DueDate", family="date"),
        rule("Subject", "Reference", "->"),
        rule("Currency", "CurrencyCode"),
        rule("Invoiced_Items", "LineItems", kind="lines", family="lines"),
    ],
    DEALS: [
        rule("Account_Name.id", "Contact.ContactID", "->", kind="ref", ref="customer"),
        rule("Deal_Name", "Reference", "->"),
        rule("Closing_Date", "Date", "->", family="date"),
        rule("Products", "LineItems", "->", kind="lines", family="lines"),
    ],
    CHART: [
        rule("Name", "Name"),
        rule("Account_Code", "Code"),
        rule(
            "Account_Type",
            "Type",
            values={
                "Bank": "BANK",
                "Current Asset": "CURRENT",
                "Current Liability": "CURRLIAB",
                "Depreciation": "DEPRECIATN",
                "Direct Costs": "DIRECTCOSTS",
                "Equity": "EQUITY",
                "Expense": "EXPENSE",
                "Fixed Asset": "FIXED",
                "Inventory": "INVENTORY",
                "Liability": "LIABILITY",
                "Non-current Asset": "NONCURRENT",
                "Other Income": "OTHERINCOME",
                "Overhead": "OVERHEADS",
                "Prepayment": "PREPAYMENT",
                "Revenue": "REVENUE",
                "Sales": "SALES",
                "Non-current Liability": "TERMLIAB",
            },
        ),
        rule("Tax_Type", "TaxType"),
        rule("Description", "Description"),
    ],
    PAYMENTS: [
        rule("Amount_Paid", "AmountPaid", "<-", family="number"),
        rule("Amount_Due", "AmountDue", "<-", family="number"),
        rule(
            # A custom picklist, next to the invoice's own Status (whose values belong to the sales workflow).
            "Payment_Status",
            "$PaymentStatus",
            "<-",
            values={
                "Paid": "Paid",
                "Partially Paid": "PartiallyPaid",
                "Overdue": "Overdue",
            },
        ),
        rule("Payment_Date", "$LastPaymentDate", "<-", family="date"),
    ],
    BALANCES: [
        rule("Outstanding_Balance", "Balances.AccountsReceivable.Outstanding", "<-", family="number"),
        rule("Overdue_Balance", "Balances.AccountsReceivable.Overdue", "<-", family="number"),
        rule("Last_Payment_Date", "$LastPaymentDate", "<-", family="date"),
    ],
}

# Invoice line items: Zoho Invoiced_Items keys (FACTS.md Zoho §4) against Xero LineItems keys. The item
# reference,
# discount and tax are translated by portal.sync.invoices (links, exact discount rate, tax rate lookup).
DEFAULT_LINE_RULES: dict[str, list[Rule]] = {
    INVOICES: [
        rule("Product_Name.id", "ItemCode", kind="ref", ref="item"),
        rule("Description", "Description"),
        rule("Quantity", "Quantity", family="number"),
        rule("List_Price", "UnitAmount", family="number"),
    ],
}
# A won deal's products become invoice lines through the invoice line rules.
DEFAULT_LINE_RULES[DEALS] = DEFAULT_LINE_RULES[INVOICES]


def default_mapping(pair: str) -> PairMapping:
    return PairMapping(
        pair=pair,
        rules=tuple(DEFAULT_RULES[pair]),
        version=0,
        line_rules=tuple(DEFAULT_LINE_RULES.get(pair, ())),
    )


def customer_pair(customer_module: str) -> str:
    return CUSTOMERS_FROM_ACCOUNTS if customer_module == "Accounts" else CUSTOMERS_FROM_CONTACTS


def _t(family: str, read_only: bool = False, max_length: int | None = None) -> FieldType:
    return FieldType(family=family, read_only=read_only, max_length=max_length)


# Xero fields the mapping editor offers, with their types (OAS schemas, FACTS.md §4).
XERO_FIELDS: Mapping[str, Mapping[str, FieldType]] = {
    "Contacts": {
        "Name": _t("text", max_length=255),
        "FirstName": _t("text", max_length=255),
        "LastName": _t("text", max_length=255),
        "EmailAddress": _t("email", max_length=255),
        "ContactNumber": _t("text", max_length=50),
        "AccountNumber": _t("text", max_length=50),
        "Website": _t("url", read_only=True),
        "TaxNumber": _t("text", max_length=50),
        "BankAccountDetails": _t("text"),
        "DefaultCurrency": _t("picklist"),
        "ContactStatus": _t("picklist"),
        **{
            f"Addresses[AddressType={kind}].{part}": _t("text")
            for kind in ("STREET", "POBOX")
            for part in (
                "AddressLine1",
                "AddressLine2",
                "City",
                "Region",
                "PostalCode",
                "Country",
                "AttentionTo",
            )
        },
        **{
            f"Phones[PhoneType={kind}].PhoneNumber": _t("phone")
            for kind in ("DEFAULT", "DDI", "MOBILE", "FAX")
        },
        "Balances.AccountsReceivable.Outstanding": _t("number", read_only=True),
        "Balances.AccountsReceivable.Overdue": _t("number", read_only=True),
        "IsCustomer": _t("boolean", read_only=True),
        "UpdatedDateUTC": _t("datetime", read_only=True),
    },
    "ContactPersons": {
        "FirstName": _t("text"),
        "LastName": _t("text"),
        "EmailAddress": _t("email"),
        "IncludeInEmails": _t("boolean"),
    },
    "Items": {
        "Code": _t("text", max_length=30),
        "Name": _t("text", max_length=50),
        "Description": _t("text", max_length=4000),
        "PurchaseDescription": _t("text", max_length=4000),
        "SalesDetails.UnitPrice": _t("number"),
        "SalesDetails.AccountCode": _t("text"),
        "SalesDetails.TaxType": _t("text"),
        "PurchaseDetails.UnitPrice": _t("number"),
        "IsSold": _t("boolean"),
        "IsPurchased": _t("boolean"),
        "QuantityOnHand": _t("number", read_only=True),
    },
    "Invoices": {
        "Contact.ContactID": _t("lookup"),
        "InvoiceNumber": _t("text", max_length=255),
        "Reference": _t("text"),
        "Date": _t("date"),
        "DueDate": _t("date"),
        "CurrencyCode": _t("picklist"),
        "CurrencyRate": _t("number"),
        "Url": _t("url"),
        "Status": _t("picklist"),
        "LineItems": _t("lines"),
        "SubTotal": _t("number", read_only=True),
        "TotalTax": _t("number", read_only=True),
        "Total": _t("number", read_only=True),
        "AmountDue": _t("number", read_only=True),
        "AmountPaid": _t("number", read_only=True),
        "FullyPaidOnDate": _t("date", read_only=True),
        "$PaymentStatus": _t("picklist", read_only=True),
        "$LastPaymentDate": _t("date", read_only=True),
    },
    "Accounts": {
        "Name": _t("text", max_length=150),
        "Code": _t("text", max_length=10),
        "Type": _t("picklist"),
        "TaxType": _t("text"),
        "Description": _t("text"),
        "Status": _t("picklist"),
        "EnablePaymentsToAccount": _t("boolean"),
    },
    "Balances": {
        "Balances.AccountsReceivable.Outstanding": _t("number", read_only=True),
        "Balances.AccountsReceivable.Overdue": _t("number", read_only=True),
        "$LastPaymentDate": _t("date", read_only=True),
    },
}
# The payment pair reads the paid invoice (amounts, status, payment dates), so it offers the invoice's fields.
XERO_FIELDS = {**XERO_FIELDS, "Payments": XERO_FIELDS["Invoices"]}


# Zoho CRM's standard fields of each module the sync covers, with their types (FACTS.md Zoho §4), plus the custom
# fields the defaults write (created by the connections setup). The mapping editor offers these when the tenant's
# own field list (GET /settings/fields, with its custom fields and picklists) has not been read yet.
def _z(api_name: str, data_type: str = "text", *, label: str = "", custom: bool = False, mandatory: bool = False,
       read_only: bool = False, picklist_values: tuple[str, ...] = (), lookup_module: str | None = None) -> FieldInfo:
    return FieldInfo(api_name, data_type, label=label or api_name.replace("_", " "), custom=custom,
                     mandatory=mandatory, read_only=read_only, picklist_values=picklist_values,
                     lookup_module=lookup_module)


def _zoho_address(prefix: str, code_field: str) -> list[FieldInfo]:
    return [_z(f"{prefix}_{part}") for part in ("Street", "City", "State", code_field, "Country")]


_BALANCE_FIELDS = [
    _z("Outstanding_Balance", "currency", custom=True),
    _z("Overdue_Balance", "currency", custom=True),
    _z("Last_Payment_Date", "date", custom=True),
]

ZOHO_FIELDS: Mapping[str, tuple[FieldInfo, ...]] = {
    "Accounts": (
        _z("Account_Name", mandatory=True),
        _z("Account_Number"),
        _z("Account_Type", "picklist", picklist_values=(
            "Analyst", "Competitor", "Customer", "Distributor", "Integrator", "Investor", "Other", "Partner",
            "Press", "Prospect", "Reseller", "Supplier", "Vendor")),
        _z("Industry", "picklist", picklist_values=(
            "ASP", "Data/Telecom OEM", "ERP", "Government/Military", "Large Enterprise", "Management ISV",
            "MSP (Management Service Provider)", "Network Equipment Enterprise", "Non-management ISV",
            "Optical Networking", "Service Provider", "Small/Medium Enterprise", "Storage Equipment",
            "Storage Service Provider", "Systems Integrator", "Wireless Industry")),
        _z("Phone", "phone"),
        _z("Fax", "phone"),
        _z("Website", "website"),
        _z("Parent_Account", "lookup", lookup_module="Accounts"),
        *_zoho_address("Billing", "Code"),
        *_zoho_address("Shipping", "Code"),
        _z("Description", "textarea"),
        _z("Currency", "picklist"),
        _z("Exchange_Rate", "double"),
        *_BALANCE_FIELDS,
    ),
    "Contacts": (
        _z("First_Name"),
        _z("Last_Name", mandatory=True),
        _z("Full_Name", read_only=True),
        _z("Email", "email"),
        _z("Secondary_Email", "email"),
        _z("Phone", "phone"),
        _z("Mobile", "phone"),
        _z("Title"),
        _z("Department"),
        _z("Account_Name", "lookup", lookup_module="Accounts"),
        *_zoho_address("Mailing", "Zip"),
        *_zoho_address("Other", "Zip"),
        _z("Description", "textarea"),
        *_BALANCE_FIELDS,
    ),
    "Products": (
        _z("Product_Name", mandatory=True),
        _z("Product_Code"),
        _z("Unit_Price", "currency"),
        _z("Description", "textarea"),
        _z("Taxable", "boolean"),
        _z("Product_Active", "boolean"),
        _z("Product_Category", "picklist", picklist_values=("Hardware", "Software", "CRM Applications")),
        _z("Qty_in_Stock", "double"),
        _z("Usage_Unit", "picklist", picklist_values=("Box", "Carton", "Dozen", "Each", "Hours", "Impressions",
                                                      "Lb", "M", "Pack", "Pages", "Pieces", "Quantity", "Reams",
                                                      "Sheet", "Spiral Binder", "Sq Ft")),
        _z("Vendor_Name", "lookup", lookup_module="Vendors"),
    ),
    "Invoices": (
        _z("Subject", mandatory=True),
        _z("Invoice_Number", "autonumber"),
        _z("Account_Name", "lookup", lookup_module="Accounts"),
        _z("Contact_Name", "lookup", lookup_module="Contacts"),
        _z("Deal_Name", "lookup", lookup_module="Deals"),
        _z("Invoice_Date", "date"),
        _z("Due_Date", "date"),
        _z("Status", "picklist", picklist_values=(
            "Created", "Approved", "Delivered", "Paid", "Partially Paid", "Overdue", "Cancelled")),
        _z("Invoiced_Items", "subform", mandatory=True, label="Invoiced Items"),
        _z("Sub_Total", "currency", read_only=True),
        _z("Discount", "currency"),
        _z("Tax", "currency", read_only=True),
        _z("Adjustment", "currency"),
        _z("Grand_Total", "currency", read_only=True),
        _z("Currency", "picklist"),
        _z("Exchange_Rate", "double"),
        *_zoho_address("Billing", "Code"),
        *_zoho_address("Shipping", "Code"),
        _z("Terms_and_Conditions", "textarea"),
        _z("Description", "textarea"),
        _z("Amount_Paid", "currency", custom=True),
        _z("Amount_Due", "currency", custom=True),
        _z("Payment_Date", "date", custom=True),
    ),
    "Deals": (
        _z("Deal_Name", mandatory=True),
        _z("Stage", "picklist", mandatory=True, picklist_values=(
            "Qualification", "Needs Analysis", "Value Proposition", "Identify Decision Makers",
            "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
            "Closed Lost to Competition")),
        _z("Pipeline", "picklist"),
        _z("Amount", "currency"),
        _z("Closing_Date", "date"),
        _z("Account_Name", "lookup", lookup_module="Accounts"),
        _z("Contact_Name", "lookup", lookup_module="Contacts"),
        _z("Probability", "integer"),
        _z("Type", "picklist", picklist_values=("Existing Business", "New Business")),
        _z("Lead_Source", "picklist"),
        _z("Description", "textarea"),
        _z("Products", "subform", label="Products"),
    ),
    "Xero_Accounts": (
        _z("Name", mandatory=True),
        _z("Account_Code"),
        _z("Account_Type", "picklist", picklist_values=tuple(
            next(r.values for r in DEFAULT_RULES[CHART] if r.values) or {})),
        _z("Tax_Type"),
        _z("Description", "textarea"),
    ),
}
