"""Validation of Zoho sandbox responses against Zoho's own OpenAPI files (shared/specs/zoho, zoho/crm-oas v8).

As FACTS.md's last section explains: the files ``$ref`` each other by raw GitHub URLs, which are mapped to the
local copies here; success bodies are validated against the success schemas themselves (their 200 responses are
``oneOf`` a success schema and an error schema without required keys, which would let anything pass), with the
keys FACTS.md documents as required added.
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from portal.config import PROJECT_ROOT

REMOTE = "https://raw.githubusercontent.com/Zohocorp-Pvt-Ltd/crm-oas/refs/heads/main/v8.0/"

# The live API sends null for these keys (see the sample responses of Zoho's v8 docs) where the OAS files declare
# a non-nullable object or string; accept null there and nowhere else.
LIVE_NULLS: dict[tuple[str, str], tuple[str, ...]] = {
    ("fields.json", "fields"): ("associated_module", "email_parser", "refer_from_field", "sharing_properties",
                                "sub_module", "external", "private", "crypt", "tooltip", "history_tracking",
                                "association_details", "autonumber", "textarea", "multiuserlookup",
                                "hipaa_compliance"),
    ("fields.json", "pick_list_values"): ("colour_code", "expected_data_type"),
    ("modules.json", "modules"): ("modified_by", "custom_view"),
    ("layouts.json", "fields"): ("associated_module", "refer_from_field", "sharing_properties", "sub_module",
                                 "external", "crypt", "tooltip", "history_tracking", "association_details",
                                 "autonumber", "textarea", "multiuserlookup", "validation_rule", "default_value",
                                 "_delete", "private"),
    ("layouts.json", "layouts"): ("mode", "subform_properties", "created_for"),
    ("layouts.json", "sections"): ("properties", "_delete"),
    ("layouts.json", "convert_mapping"): ("Contacts", "Deals", "Accounts", "Invoices", "SalesOrders"),
    ("users.json", "users"): ("$current_shift", "$next_shift", "Reporting_To", "created_by"),
    ("record.json", "Info"): ("next_page_token", "previous_page_token", "page_token_expiry", "sort_by", "sort_order"),
    ("record.json", "Record"): ("Created_By", "Modified_By"),
    ("record.json", "Success_Response"): ("duplicate_field",),
    ("notifications.json", "Notification"): ("channel_id",),
    ("bulk_read.json", "Result"): ("next_page_token",),
}
# Some schemas were generated from one sample and carry its values as rules: the notify_url and user email
# patterns (SOURCE.md caveat 6), a user's time zone typed as an object (it is a name like "Asia/Kolkata");
# channel ids are numbers.
PATCHES: dict[tuple[str, str, str], dict[str, Any]] = {
    ("users.json", "users", "email"): {"type": "string"},
    ("users.json", "users", "time_zone"): {"type": "string"},
    ("notifications.json", "Notification", "notify_url"): {"type": "string"},
    ("notifications.json", "Notification", "channel_id"): {"type": "integer", "format": "int64"},
    # A Bulk Read criterion's value is a string, number or list, never the object the file declares.
    ("bulk_read.json", "Criteria", "value"): {},
}
# Keys the files list as required that the live API sends only sometimes: a Bulk Read query names a file_type
# only for ICS exports (its enum is ["ics"]).
NOT_REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("bulk_read.json", "Query"): ("file_type",),
}


def spec_dir() -> Path:
    candidates = [os.environ.get("ZOHO_OAS_DIR"), PROJECT_ROOT.parent / "shared" / "specs" / "zoho",
                  PROJECT_ROOT.parent.parent / "shared" / "specs" / "zoho"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "record.json").exists():
            return Path(candidate)
    pytest.fail("Zoho's OpenAPI files were not found: set ZOHO_OAS_DIR to shared/specs/zoho")


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((spec_dir() / name).read_text())
    document = copy.deepcopy(document)
    schemas = document.get("components", {}).get("schemas", {})
    for (file_name, schema, prop), replacement in PATCHES.items():
        if file_name == name and prop in schemas.get(schema, {}).get("properties", {}):
            schemas[schema]["properties"][prop] = replacement
    for (file_name, schema), keys in NOT_REQUIRED.items():
        if file_name == name:
            schemas[schema]["required"] = [key for key in schemas[schema]["required"] if key not in keys]
    for (file_name, schema), props in LIVE_NULLS.items():
        if file_name != name:
            continue
        properties = schemas[schema]["properties"]
        for prop in props:
            properties[prop] = {"anyOf": [{"enum": [None]}, properties[prop]]}
    return document


@cache
def registry() -> Registry:
    resources = []
    for path in sorted(spec_dir().glob("*.json")):
        resources.append((REMOTE + path.name, Resource.from_contents(_load(path.name), default_specification=DRAFT4)))
    return Registry().with_resources(resources)


def validate(file_name: str, schema: str, body: Any, required: tuple[str, ...] = ()) -> None:
    """Validate ``body`` against ``components/schemas/<schema>`` of ``file_name``; ``required`` adds keys the
    OAS leaves optional but the live API always sends (FACTS.md)."""
    ref = {"$ref": f"{REMOTE}{file_name}#/components/schemas/{schema}"}
    validator = OAS30Validator(ref, registry=registry())
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    missing = [key for key in required if key not in body]
    assert not missing, f"missing keys {missing} in {schema}"


def validate_records(body: Any, with_info: bool = True) -> None:
    """GET records / search / related records: Response_Wrapper with data (and info)."""
    validate("record.json", "Response_Wrapper", body, ("data", "info") if with_info else ("data",))
    for record in body["data"]:
        assert isinstance(record["id"], str) and record["id"].isdigit() and len(record["id"]) == 19


def validate_write(body: Any) -> None:
    """Write responses: one Success_Response or API_Exception per record."""
    assert isinstance(body.get("data"), list) and body["data"]
    for item in body["data"]:
        if item.get("status") == "success":
            validate("record.json", "Success_Response", item, ("code", "details", "message", "status"))
            assert item["details"]["id"].isdigit()
        else:
            validate("record.json", "API_Exception", item, ("code", "details", "message", "status"))


def validate_error(body: Any) -> None:
    validate("common.json", "API_Exception", body)
