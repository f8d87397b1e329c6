"""What a fresh Zoho CRM org contains: data centres, editions, the standard modules this project syncs and their
fields (API names from the SDK's ``record/field.py``, FACTS.md §4), and the custom ``Xero_Accounts`` module the
extension installs. Everything here is static; per-org ids and customisations live in ``state.py``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

# Zoho: one accounts server and API domain per data centre (FACTS.md §1). The sandbox serves every DC from the
# same base URL (the serving contract fixes it) and records the DC on the org instead.
DATA_CENTRES: dict[str, dict[str, str]] = {
    "us": {"label": "United States", "accounts": "https://accounts.zoho.com", "api": "https://www.zohoapis.com"},
    "eu": {"label": "Europe", "accounts": "https://accounts.zoho.eu", "api": "https://www.zohoapis.eu"},
    "in": {"label": "India", "accounts": "https://accounts.zoho.in", "api": "https://www.zohoapis.in"},
    "au": {"label": "Australia", "accounts": "https://accounts.zoho.com.au", "api": "https://www.zohoapis.com.au"},
    "jp": {"label": "Japan", "accounts": "https://accounts.zoho.jp", "api": "https://www.zohoapis.jp"},
    "cn": {"label": "China", "accounts": "https://accounts.zoho.com.cn", "api": "https://www.zohoapis.com.cn"},
    "ca": {"label": "Canada", "accounts": "https://accounts.zohocloud.ca", "api": "https://www.zohoapis.ca"},
    "sa": {"label": "Saudi Arabia", "accounts": "https://accounts.zoho.sa", "api": "https://www.zohoapis.sa"},
    "uk": {"label": "United Kingdom", "accounts": "https://accounts.zoho.uk", "api": "https://www.zohoapis.uk"},
}


@dataclass(frozen=True)
class Edition:
    name: str
    concurrency: int
    credits_base: int
    credits_per_user: int
    credits_max: int | None


# Zoho: per-org concurrency and daily credits by edition (FACTS.md §5, v8 api-limits page).
EDITIONS: dict[str, Edition] = {
    "Free": Edition("Free", 5, 5_000, 0, 5_000),
    "Standard": Edition("Standard", 10, 50_000, 250, 100_000),
    "Professional": Edition("Professional", 15, 50_000, 500, 3_000_000),
    "Enterprise": Edition("Enterprise", 20, 50_000, 1_000, 5_000_000),
    "Ultimate": Edition("Ultimate", 25, 50_000, 2_000, None),
}
SUB_CONCURRENCY = 10

# Zoho's own data-type vocabulary (FACTS.md, "What the official Python SDK expects"): json_type and ui_type as the
# fields API reports them.
JSON_TYPES = {
    "text": "string", "textarea": "string", "email": "string", "phone": "string", "website": "string",
    "picklist": "string", "multiselectpicklist": "jsonarray", "integer": "integer", "bigint": "string",
    "double": "double", "currency": "double", "percent": "double", "boolean": "boolean", "date": "string",
    "datetime": "string", "lookup": "jsonobject", "ownerlookup": "jsonobject", "userlookup": "jsonobject",
    "subform": "jsonarray", "formula": "string", "autonumber": "string", "linetax": "jsonarray",
}
UI_TYPES = {
    "text": 1, "textarea": 3, "email": 25, "phone": 33, "website": 21, "picklist": 2, "multiselectpicklist": 100,
    "integer": 32, "bigint": 32, "double": 38, "currency": 36, "percent": 38, "boolean": 301, "date": 24,
    "datetime": 333, "lookup": 133, "ownerlookup": 8, "userlookup": 8, "subform": 2, "formula": 118,
    "autonumber": 1, "linetax": 1,
}
TEXT_TYPES = frozenset({"text", "textarea", "email", "phone", "website", "picklist", "autonumber"})
NUMBER_TYPES = frozenset({"integer", "bigint", "double", "currency", "percent"})
LOOKUP_TYPES = frozenset({"lookup", "ownerlookup", "userlookup"})
CUSTOM_FIELD_TYPES = ("text", "textarea", "email", "phone", "website", "picklist", "multiselectpicklist",
                      "integer", "double", "currency", "percent", "boolean", "date", "datetime", "lookup")


@dataclass(frozen=True)
class FieldDef:
    api_name: str
    label: str
    data_type: str
    length: int = 255
    mandatory: bool = False
    unique: bool = False
    read_only: bool = False
    picklist: tuple[str, ...] = ()
    lookup: str | None = None
    subform: str | None = None
    decimal_place: int | None = None
    custom: bool = False
    id: str = ""

    @property
    def json_type(self) -> str:
        return JSON_TYPES[self.data_type]


@dataclass(frozen=True)
class ModuleDef:
    api_name: str
    singular: str
    plural: str
    display_field: str
    fields: tuple[FieldDef, ...]
    generated_type: str = "default"
    api_supported: bool = True
    parent_module: str | None = None
    # Zoho: the system-defined unique field that upsert tries first (FACTS.md §3, upsert).
    system_unique: str | None = None
    related: tuple[str, ...] = ()
    id: str = ""
    sequence: int = 0
    field_map: dict[str, FieldDef] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.field_map.update({f.api_name: f for f in self.fields})

    def with_fields(self, fields: tuple[FieldDef, ...], **changes: object) -> ModuleDef:
        return replace(self, fields=fields, field_map={}, **changes)  # type: ignore[arg-type]

    @property
    def is_subform(self) -> bool:
        return self.generated_type == "subform"


def _f(api_name: str, label: str, data_type: str = "text", **kwargs: object) -> FieldDef:
    return FieldDef(api_name, label, data_type, **kwargs)  # type: ignore[arg-type]


def _address(prefix: str, label: str, zip_name: str) -> tuple[FieldDef, ...]:
    return (
        _f(f"{prefix}_Street", f"{label} Street", length=250),
        _f(f"{prefix}_City", f"{label} City", length=100),
        _f(f"{prefix}_State", f"{label} State", length=100),
        _f(f"{prefix}_{zip_name}", f"{label} {zip_name.replace('_', ' ')}", length=30),
        _f(f"{prefix}_Country", f"{label} Country", length=100),
    )


def _system(owner_label: str) -> tuple[FieldDef, ...]:
    return (
        _f("Owner", owner_label, "ownerlookup", length=120),
        _f("Created_By", "Created By", "ownerlookup", read_only=True),
        _f("Modified_By", "Modified By", "ownerlookup", read_only=True),
        _f("Created_Time", "Created Time", "datetime", read_only=True),
        _f("Modified_Time", "Modified Time", "datetime", read_only=True),
    )


CURRENCIES = ("USD", "EUR", "GBP", "INR", "AUD", "JPY", "CAD", "NZD", "SAR", "CNY")
INDUSTRIES = ("-None-", "ASP (Application Service Provider)", "Data/Telecom OEM", "ERP (Enterprise Resource Planning)",
              "Government/Military", "Large Enterprise", "ManagementISV", "MSP (Management Service Provider)",
              "Network Equipment Enterprise", "Non-management ISV", "Optical Networking", "Service Provider",
              "Small/Medium Enterprise", "Storage Equipment", "Storage Service Provider", "Systems Integrator",
              "Wireless Industry")
LEAD_SOURCES = ("-None-", "Advertisement", "Cold Call", "Employee Referral", "External Referral", "Online Store",
                "Partner", "Public Relations", "Sales Email Alias", "Seminar Partner", "Internal Seminar",
                "Trade Show", "Web Download", "Web Research", "Chat")
DEAL_STAGES = ("Qualification", "Needs Analysis", "Value Proposition", "Identify Decision Makers",
               "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost", "Closed-Lost to Competition")
# Zoho: the default probability of each stage (Deals stage picklist).
STAGE_PROBABILITY = {"Qualification": 10, "Needs Analysis": 20, "Value Proposition": 40,
                     "Identify Decision Makers": 60, "Proposal/Price Quote": 75, "Negotiation/Review": 90,
                     "Closed Won": 100, "Closed Lost": 0, "Closed-Lost to Competition": 0}
INVOICE_STATUSES = ("Created", "Approved", "Delivered", "Cancelled")

ACCOUNTS = ModuleDef(
    "Accounts", "Account", "Accounts", "Account_Name", system_unique="Account_Name",
    related=("Contacts", "Deals", "Invoices"),
    fields=(
        _f("Account_Name", "Account Name", length=200, mandatory=True, unique=True),
        _f("Account_Number", "Account Number", length=40),
        _f("Account_Site", "Account Site", length=80),
        _f("Account_Type", "Account Type", "picklist", length=120,
           picklist=("-None-", "Analyst", "Competitor", "Customer", "Distributor", "Integrator", "Investor",
                     "Other", "Partner", "Press", "Prospect", "Reseller", "Supplier", "Vendor")),
        _f("Industry", "Industry", "picklist", length=120, picklist=INDUSTRIES),
        _f("Parent_Account", "Parent Account", "lookup", lookup="Accounts"),
        _f("Phone", "Phone", "phone", length=30),
        _f("Fax", "Fax", "phone", length=30),
        _f("Website", "Website", "website"),
        _f("Ticker_Symbol", "Ticker Symbol", length=30),
        _f("Ownership", "Ownership", "picklist", length=120,
           picklist=("-None-", "Other", "Private", "Public", "Subsidiary", "Partnership", "Government",
                     "Privately Held", "Public Company")),
        _f("Employees", "Employees", "integer", length=9),
        _f("Annual_Revenue", "Annual Revenue", "currency", length=16, decimal_place=2),
        _f("SIC_Code", "SIC Code", "integer", length=9),
        _f("Rating", "Rating", "picklist", length=120,
           picklist=("-None-", "Acquired", "Active", "Market Failed", "Project Cancelled", "Shut Down")),
        *_address("Billing", "Billing", "Code"),
        *_address("Shipping", "Shipping", "Code"),
        _f("Description", "Description", "textarea", length=32000),
        _f("Currency", "Currency", "picklist", length=120, picklist=CURRENCIES),
        _f("Exchange_Rate", "Exchange Rate", "double", length=16, decimal_place=9),
        *_system("Account Owner"),
    ),
)

CONTACTS = ModuleDef(
    "Contacts", "Contact", "Contacts", "Full_Name", system_unique="Email", related=("Deals", "Invoices"),
    fields=(
        _f("Salutation", "Salutation", "picklist", length=120,
           picklist=("-None-", "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.")),
        _f("First_Name", "First Name", length=40),
        _f("Last_Name", "Last Name", length=80, mandatory=True),
        _f("Full_Name", "Contact Name", length=120, read_only=True),
        _f("Account_Name", "Account Name", "lookup", lookup="Accounts"),
        _f("Vendor_Name", "Vendor Name", "lookup", lookup="Vendors"),
        _f("Email", "Email", "email", length=100, unique=True),
        _f("Secondary_Email", "Secondary Email", "email", length=100),
        _f("Phone", "Phone", "phone", length=30),
        _f("Mobile", "Mobile", "phone", length=30),
        _f("Home_Phone", "Home Phone", "phone", length=30),
        _f("Fax", "Fax", "phone", length=30),
        _f("Title", "Title", length=100),
        _f("Department", "Department", length=100),
        _f("Lead_Source", "Lead Source", "picklist", length=120, picklist=LEAD_SOURCES),
        _f("Date_of_Birth", "Date of Birth", "date"),
        _f("Email_Opt_Out", "Email Opt Out", "boolean"),
        *_address("Mailing", "Mailing", "Zip"),
        *_address("Other", "Other", "Zip"),
        _f("Description", "Description", "textarea", length=32000),
        _f("Currency", "Currency", "picklist", length=120, picklist=CURRENCIES),
        _f("Exchange_Rate", "Exchange Rate", "double", length=16, decimal_place=9),
        *_system("Contact Owner"),
    ),
)

VENDORS = ModuleDef(
    "Vendors", "Vendor", "Vendors", "Vendor_Name", system_unique="Vendor_Name", related=("Products",),
    fields=(
        _f("Vendor_Name", "Vendor Name", length=100, mandatory=True, unique=True),
        _f("Email", "Email", "email", length=100),
        _f("Phone", "Phone", "phone", length=30),
        _f("Website", "Website", "website"),
        _f("GL_Account", "GL Account", "picklist", length=120,
           picklist=("-None-", "Sales-Software", "Sales-Hardware", "Rental-Income", "Interest-Income",
                     "Sales Software Support", "Sales Other", "Interest Sales", "Service-Hardware Labor")),
        _f("Category", "Category", length=100),
        _f("Street", "Street", length=250),
        _f("City", "City", length=100),
        _f("State", "State", length=100),
        _f("Zip_Code", "Zip Code", length=30),
        _f("Country", "Country", length=100),
        _f("Description", "Description", "textarea", length=32000),
        _f("Currency", "Currency", "picklist", length=120, picklist=CURRENCIES),
        _f("Exchange_Rate", "Exchange Rate", "double", length=16, decimal_place=9),
        *_system("Vendor Owner"),
    ),
)

PRODUCTS = ModuleDef(
    "Products", "Product", "Products", "Product_Name", system_unique="Product_Name", related=("Deals",),
    fields=(
        _f("Product_Name", "Product Name", length=200, mandatory=True, unique=True),
        _f("Product_Code", "Product Code", length=40),
        _f("Product_Active", "Product Active", "boolean"),
        _f("Product_Category", "Product Category", "picklist", length=120,
           picklist=("-None-", "Hardware", "Software", "CRM Applications", "Services")),
        _f("Manufacturer", "Manufacturer", "picklist", length=120,
           picklist=("-None-", "AltvetPet Inc.", "LexPro Inc.", "MetBeat Corp.", "Zylker")),
        _f("Vendor_Name", "Vendor Name", "lookup", lookup="Vendors"),
        _f("Sales_Start_Date", "Sales Start Date", "date"),
        _f("Sales_End_Date", "Sales End Date", "date"),
        _f("Support_Start_Date", "Support Start Date", "date"),
        _f("Support_Expiry_Date", "Support Expiry Date", "date"),
        _f("Unit_Price", "Unit Price", "currency", length=16, decimal_place=2),
        _f("Commission_Rate", "Commission Rate", "currency", length=16, decimal_place=2),
        _f("Tax", "Tax", "multiselectpicklist", length=2000, picklist=("Sales Tax", "VAT", "GST")),
        _f("Taxable", "Taxable", "boolean"),
        _f("Usage_Unit", "Usage Unit", "picklist", length=120,
           picklist=("-None-", "Box", "Carton", "Dozen", "Each", "Hours", "Impressions", "Lb", "M", "Pack",
                     "Pages", "Pieces", "Quantity", "Reams", "Sheet", "Spiral Binder", "Sq Ft")),
        _f("Qty_Ordered", "Qty Ordered", "double", length=16, decimal_place=2),
        _f("Qty_in_Stock", "Qty in Stock", "double", length=16, decimal_place=2),
        _f("Reorder_Level", "Reorder Level", "double", length=16, decimal_place=2),
        _f("Qty_in_Demand", "Qty in Demand", "double", length=16, decimal_place=2),
        _f("Description", "Description", "textarea", length=32000),
        _f("Currency", "Currency", "picklist", length=120, picklist=CURRENCIES),
        _f("Exchange_Rate", "Exchange Rate", "double", length=16, decimal_place=9),
        *_system("Product Owner"),
    ),
)

DEALS = ModuleDef(
    "Deals", "Deal", "Deals", "Deal_Name", system_unique="Deal_Name", related=("Products",),
    fields=(
        _f("Deal_Name", "Deal Name", length=120, mandatory=True),
        _f("Amount", "Amount", "currency", length=16, decimal_place=2),
        _f("Stage", "Stage", "picklist", length=120, mandatory=True, picklist=DEAL_STAGES),
        _f("Probability", "Probability (%)", "integer", length=3),
        _f("Expected_Revenue", "Expected Revenue", "currency", length=16, decimal_place=2, read_only=True),
        _f("Closing_Date", "Closing Date", "date"),
        _f("Account_Name", "Account Name", "lookup", lookup="Accounts"),
        _f("Contact_Name", "Contact Name", "lookup", lookup="Contacts"),
        _f("Type", "Type", "picklist", length=120, picklist=("-None-", "Existing Business", "New Business")),
        _f("Lead_Source", "Lead Source", "picklist", length=120, picklist=LEAD_SOURCES),
        _f("Next_Step", "Next Step", length=100),
        _f("Description", "Description", "textarea", length=32000),
        _f("Currency", "Currency", "picklist", length=120, picklist=CURRENCIES),
        _f("Exchange_Rate", "Exchange Rate", "double", length=16, decimal_place=9),
        *_system("Deal Owner"),
    ),
)

INVOICED_ITEMS = ModuleDef(
    "Invoiced_Items", "Invoiced Item", "Invoiced Items", "Product_Name", generated_type="subform",
    api_supported=False, parent_module="Invoices",
    fields=(
        _f("Product_Name", "Product Name", "lookup", lookup="Products", mandatory=True),
        _f("Quantity", "Quantity", "double", length=16, decimal_place=2, mandatory=True),
        _f("List_Price", "List Price", "currency", length=16, decimal_place=2),
        _f("Discount", "Discount", "currency", length=16, decimal_place=2),
        _f("Total", "Amount", "currency", length=16, decimal_place=2, read_only=True),
        _f("Total_After_Discount", "Total After Discount", "currency", length=16, decimal_place=2, read_only=True),
        _f("Tax", "Tax", "currency", length=16, decimal_place=2, read_only=True),
        _f("Net_Total", "Total", "currency", length=16, decimal_place=2, read_only=True),
        _f("Line_Tax", "Line Tax", "linetax"),
        _f("Description", "Description", "textarea", length=2000),
        _f("Sequence_Number", "Sequence Number", "integer", length=9, read_only=True),
    ),
)

INVOICES = ModuleDef(
    "Invoices", "Invoice", "Invoices", "Subject", system_unique="Subject",
    fields=(
        _f("Subject", "Subject", length=255, mandatory=True),
        _f("Invoice_Number", "Invoice Number", "autonumber", length=50, read_only=True),
        _f("Invoice_Date", "Invoice Date", "date"),
        _f("Due_Date", "Due Date", "date"),
        _f("Status", "Status", "picklist", length=120, picklist=INVOICE_STATUSES),
        _f("Account_Name", "Account Name", "lookup", lookup="Accounts"),
        _f("Contact_Name", "Contact Name", "lookup", lookup="Contacts"),
        _f("Deal_Name", "Deal Name", "lookup", lookup="Deals"),
        _f("Purchase_Order", "Purchase Order", length=100),
        _f("Excise_Duty", "Excise Duty", "currency", length=16, decimal_place=2),
        _f("Sales_Commission", "Sales Commission", "currency", length=16, decimal_place=2),
        _f("Invoiced_Items", "Invoiced Items", "subform", mandatory=True, subform="Invoiced_Items"),
        _f("Sub_Total", "Sub Total", "currency", length=16, decimal_place=2, read_only=True),
        _f("Discount", "Discount", "currency", length=16, decimal_place=2),
        _f("Tax", "Tax", "currency", length=16, decimal_place=2, read_only=True),
        _f("Adjustment", "Adjustment", "currency", length=16, decimal_place=2),
        _f("Grand_Total", "Grand Total", "currency", length=16, decimal_place=2, read_only=True),
        *_address("Billing", "Billing", "Code"),
        *_address("Shipping", "Shipping", "Code"),
        _f("Terms_and_Conditions", "Terms and Conditions", "textarea", length=32000),
        _f("Description", "Description", "textarea", length=32000),
        _f("Currency", "Currency", "picklist", length=120, picklist=CURRENCIES),
        _f("Exchange_Rate", "Exchange Rate", "double", length=16, decimal_place=9),
        *_system("Invoice Owner"),
    ),
)

STANDARD_MODULES: tuple[ModuleDef, ...] = (ACCOUNTS, CONTACTS, PRODUCTS, DEALS, INVOICES, VENDORS, INVOICED_ITEMS)

# Fields the sync writes back from Xero, installed as custom fields in every demo org as the portal's set-up
# asks: payment state on invoices, and the customer's balances on accounts and contacts (portal/sync defaults).
INVOICE_PAYMENT_FIELDS: tuple[FieldDef, ...] = (
    _f("Xero_Invoice_ID", "Xero Invoice ID", length=100, custom=True),
    _f("Amount_Paid", "Amount Paid", "currency", length=16, decimal_place=2, custom=True),
    _f("Amount_Due", "Amount Due", "currency", length=16, decimal_place=2, custom=True),
    _f("Payment_Status", "Payment Status", "picklist", length=120, custom=True,
       picklist=("-None-", "Unpaid", "Partially Paid", "Paid", "Overdue", "Voided")),
    _f("Payment_Date", "Payment Date", "date", custom=True),
)
CUSTOMER_BALANCE_FIELDS: tuple[FieldDef, ...] = (
    _f("Outstanding_Balance", "Outstanding Balance", "currency", length=16, decimal_place=2, custom=True),
    _f("Overdue_Balance", "Overdue Balance", "currency", length=16, decimal_place=2, custom=True),
    _f("Last_Payment_Date", "Last Payment Date", "date", custom=True),
)
SYNC_CUSTOM_FIELDS: dict[str, tuple[FieldDef, ...]] = {
    "Invoices": INVOICE_PAYMENT_FIELDS,
    "Accounts": CUSTOMER_BALANCE_FIELDS,
    "Contacts": CUSTOMER_BALANCE_FIELDS,
}

# The custom module in which the extension mirrors Xero's chart of accounts.
XERO_ACCOUNTS = ModuleDef(
    "Xero_Accounts", "Xero Account", "Xero Accounts", "Name", generated_type="custom", system_unique="Name",
    fields=(
        _f("Name", "Xero Account Name", length=120, mandatory=True),
        _f("Account_Code", "Account Code", length=10),
        _f("Xero_Account_ID", "Xero Account ID", length=100, unique=True),
        # The labels a CRM user reads; the sync maps them to Xero's account types (portal/sync defaults).
        _f("Account_Type", "Account Type", "picklist", length=120,
           picklist=("-None-", "Bank", "Current Asset", "Current Liability", "Depreciation", "Direct Costs",
                     "Equity", "Expense", "Fixed Asset", "Inventory", "Liability", "Non-current Asset",
                     "Other Income", "Overhead", "Prepayment", "Revenue", "Sales", "Non-current Liability")),
        _f("Tax_Type", "Tax Type", length=50),
        _f("Status", "Status", "picklist", length=120, picklist=("-None-", "ACTIVE", "ARCHIVED")),
        _f("Description", "Description", "textarea", length=2000),
        *_system("Xero Account Owner"),
    ),
)

TAXES = (("Sales Tax", 8.25), ("VAT", 20.0), ("GST", 10.0))


def api_name_for_label(label: str) -> str:
    """Zoho derives a custom field's API name from its label: words joined by underscores (FACTS.md §4)."""
    words = re.findall(r"[A-Za-z0-9]+", label)
    if not words:
        raise ValueError("a field label needs at least one letter or digit")
    name = "_".join(words)
    return name if name[0].isalpha() else f"Field_{name}"
