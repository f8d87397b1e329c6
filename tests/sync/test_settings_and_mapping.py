"""Settings that make no sense are refused with a fix; mapping rules read, write, convert, refuse safely."""

from __future__ import annotations

from dataclasses import replace

import pytest

from portal.sync import mapping_defaults as defaults
from portal.sync.mapping import (
    Arrow,
    FieldType,
    PairMapping,
    Rule,
    canonical,
    check_mapping,
    check_rule,
    family_of_zoho,
    get_path,
    rule,
    set_path,
)
from portal.sync.mapping_store import default_for
from portal.sync.settings import (
    Direction,
    ModuleSwitches,
    SyncSettings,
    apply_fix,
    validate_settings,
)
from portal.sync.testing import ZOHO_FIELDS

Z2X = Direction.ZOHO_TO_XERO


def _codes(settings: SyncSettings) -> set[str]:
    return {p.code for p in validate_settings(settings)}


def test_everything_on_is_valid_and_nothing_on_is_valid() -> None:
    assert validate_settings(SyncSettings.everything_on()) == []
    assert validate_settings(SyncSettings()) == []


def test_invoices_without_their_customer_module_are_refused_with_a_fix_that_works() -> None:
    settings = SyncSettings.everything_on().with_module(Z2X, "Accounts", enabled=False)
    (problem,) = [p for p in validate_settings(settings) if p.code == "invoices_need_customers"]
    assert (
        problem.message.render() == "Invoices need their customers in Xero, but Accounts (the customer module) is off."
    )
    assert problem.fix is not None and problem.fix.label.render() == "Turn on Accounts"
    assert "invoices_need_customers" not in _codes(apply_fix(settings, problem.fix))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda s: s.with_module(Z2X, "Products", enabled=False), "invoices_need_products"),
        (lambda s: s.with_module(Z2X, "Accounts", enabled=False), "deals_need_customers"),
        (lambda s: replace(s, customer_module="Contacts"), "accounts_not_synced"),
        (lambda s: replace(s, default_sales_account=""), "sales_account_missing"),
        (lambda s: replace(s, won_deal_stage=" "), "won_stage_missing"),
        (
            lambda s: s.with_module(Direction.XERO_TO_ZOHO, "Invoices", enabled=False).with_module(
                Z2X, "Invoices", enabled=False
            ),
            "payments_need_invoices",
        ),
        (
            lambda s: s.with_module(Direction.XERO_TO_ZOHO, "Contacts", enabled=False).with_module(
                Z2X, "Accounts", enabled=False
            ),
            "xero_invoices_need_contacts",
        ),
        (
            lambda s: s.with_module(Z2X, "Products", create=False, update=False, delete=False),
            "module_does_nothing",
        ),
    ],
)
def test_nonsensical_combinations_are_refused(change, code: str) -> None:
    assert code in _codes(change(SyncSettings.everything_on()))


def test_settings_survive_a_round_trip_through_json() -> None:
    settings = SyncSettings.everything_on(conflict_policy="newest_wins", tax_treatment="Inclusive")
    again = SyncSettings.from_json(settings.to_json())
    assert again == settings
    assert again.switches(Z2X, "Deals") == ModuleSwitches(True, True, True, True)


# --- paths and values --------------------------------------------------------------------------------


def test_paths_select_and_create_list_elements() -> None:
    record: dict = {"Addresses": [{"AddressType": "POBOX", "City": "York"}]}
    set_path(record, "Addresses[AddressType=STREET].City", "Leeds")
    set_path(record, "SalesDetails.UnitPrice", 5)
    assert get_path(record, "Addresses[AddressType=STREET].City") == "Leeds"
    assert get_path(record, "Addresses[AddressType=POBOX].City") == "York"
    assert record["SalesDetails"] == {"UnitPrice": 5}
    assert get_path(record, "Phones[PhoneType=MOBILE].PhoneNumber") is None


def test_one_value_has_one_spelling() -> None:
    assert canonical(10) == canonical(10.0) == canonical("10.00", "number") == "10"
    assert canonical("") is None and canonical([]) is None
    assert canonical("2026-03-01T10:00:00+01:00", "date") == "2026-03-01"


def test_transforms_picklists_and_fixed_values_convert_both_ways() -> None:
    joined = rule(("First_Name", "Last_Name"), "Name", "->", transform="join")
    assert joined.forward(joined.zoho_raw({"First_Name": " Ada ", "Last_Name": "Lovelace"})) == "Ada Lovelace"
    upper = rule("Code", "Code", transform="upper")
    assert upper.forward("ab-1") == "AB-1"
    dated = rule("Text_Date", "Date", transform="date_format", transform_args=("DD/MM/YYYY",))
    assert dated.forward("2026-03-01") == "01/03/2026"
    assert dated.backward("01/03/2026") == "2026-03-01"
    kinds = rule("Account_Type", "Type", values={"Revenue": "REVENUE", "Sales": "SALES"})
    assert (kinds.forward("Sales"), kinds.backward("REVENUE"), kinds.forward("Other")) == (
        "SALES",
        "Revenue",
        "Other",
    )
    fixed = Rule(zoho=(), xero="Status", arrow=Arrow.TO_XERO, fixed="ACTIVE")
    assert fixed.forward(None) == "ACTIVE"


def test_rules_survive_a_round_trip_through_json() -> None:
    mapping = default_for(defaults.INVOICES)
    again = PairMapping.from_json(mapping.pair, 3, mapping.to_json())
    assert again.rules == mapping.rules and again.line_rules == mapping.line_rules and again.version == 3


TEXT, NUMBER = FieldType("text"), FieldType("number")


@pytest.mark.parametrize(
    ("candidate", "zoho", "xero", "refusal"),
    [
        (rule("Name", "UnitPrice"), TEXT, NUMBER, "A text value cannot go into a number field."),
        (rule("Price", "Name"), NUMBER, TEXT, "A text value cannot go into a number field."),
        (rule("Price", "Name", "->"), NUMBER, TEXT, None),
        (
            rule("Total", "Total", "->"),
            NUMBER,
            FieldType("number", read_only=True),
            "Xero computes Total itself: it cannot be written.",
        ),
        (
            rule(("A", "B"), "Name", "<->", transform="join"),
            TEXT,
            TEXT,
            "Joined fields cannot be split again: this pair can only go from Zoho to Xero.",
        ),
        (rule("A", "Name", transform="eval"), TEXT, TEXT, "eval is not one of the available transforms."),
        (
            rule("Account", "Name"),
            FieldType("lookup"),
            TEXT,
            "A lookup can only be paired with a linked record, not with a plain value.",
        ),
        (
            Rule(zoho=(), xero="Name", arrow=Arrow.BOTH, fixed="x"),
            None,
            TEXT,
            "A fixed value goes one way: choose Zoho to Xero or Xero to Zoho.",
        ),
        (rule("Missing", "Name"), None, TEXT, "The Zoho field Missing does not exist."),
    ],
)
def test_incompatible_pairs_are_refused_with_a_reason(candidate: Rule, zoho, xero, refusal) -> None:
    problem = check_rule(candidate, zoho, xero)
    assert (problem.render() if problem else None) == refusal


def test_every_default_mapping_passes_its_own_checks() -> None:
    for pair in defaults.DEFAULT_RULES:
        zoho_module, xero_module = pair.replace("<", ">").split(">")
        zoho_types = {
            f.api_name: FieldType(family_of_zoho(f.data_type), f.read_only, f.max_length, f.picklist_values)
            for f in ZOHO_FIELDS.get(zoho_module, [])
        }
        zoho_types["id"] = FieldType("text", read_only=True)
        zoho_types["Products"] = FieldType("lines")
        xero_types = defaults.XERO_FIELDS[xero_module]
        problems = check_mapping(default_for(pair), zoho_types, xero_types)
        assert problems == {}, (pair, {k: v.render() for k, v in problems.items()})


def test_a_target_filled_twice_is_refused() -> None:
    mapping = PairMapping("Accounts>Contacts", (rule("Account_Name", "Name"), rule("Website", "Name")))
    problems = check_mapping(mapping, {"Account_Name": TEXT, "Website": TEXT}, {"Name": TEXT})
    assert [p.render() for p in problems.values()] == ["Name is already filled by another pair."]


def test_docs_mapping_shows_every_default_rule() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "mapping.md").read_text()
    for pair, rules in defaults.DEFAULT_RULES.items():
        section = text.split(f"### `{pair}`", 1)[1].split("### ", 1)[0]
        for candidate in rules:
            assert f"`{candidate.xero}`" in section and f"`{' + '.join(candidate.zoho)}`" in section, (pair, candidate)
