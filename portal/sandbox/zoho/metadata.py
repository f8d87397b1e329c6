"""Metadata in the API's JSON shapes: modules, fields, layouts, related lists, users and the org (OAS
``modules.json``, ``fields.json``, ``layouts.json``, ``related_lists.json``, ``users.json``, ``org.json``).

The OAS files list many keys as required; every one is present, with ``null`` where the live API sends null.
"""

from __future__ import annotations

from typing import Any

from portal.sandbox.zoho.catalog import FieldDef, ModuleDef
from portal.sandbox.zoho.state import Metadata, Org, zid

ADMIN_PROFILE = {"name": "Administrator", "id": ""}
ORG_CREATED = 1_672_531_200.0  # 2023-01-01: when the demo orgs "signed up"


def minified_user(user: dict[str, Any]) -> dict[str, Any]:
    return {"name": user["full_name"], "id": user["id"], "email": user["email"]}


def profiles(org: Org) -> list[dict[str, Any]]:
    return [{"name": "Administrator", "id": zid(org.prefix, 26011)}, {"name": "Standard", "id": zid(org.prefix, 26014)}]


def layout_ref(org: Org, module: ModuleDef) -> dict[str, Any]:
    return {"api_name": "Standard", "name": "Standard", "id": zid(org.prefix, int(module.id[-7:]) + 91)}


def field_json(org: Org, metadata: Metadata, module: ModuleDef, f: FieldDef, sequence: int) -> dict[str, Any]:
    data_type = f.data_type
    lookup: dict[str, Any] = {}
    if data_type == "lookup" and f.lookup:
        target = metadata.modules.get(f.lookup)
        lookup = {
            "display_label": f.label, "api_name": f.api_name,
            "module": {"api_name": f.lookup, "id": target.id if target else None},
            "id": f.id, "query_details": {}, "revalidate_filter_during_edit": False, "show_fields": [],
        }
    associated_module = None
    subform = None
    if data_type == "subform" and f.subform:
        sub = metadata.modules[f.subform]
        associated_module = {"module": sub.api_name, "id": sub.id, "api_name": sub.api_name}
        subform = {"module": sub.api_name, "id": sub.id}
    picklist: list[dict[str, Any]] = [
        {"display_value": value, "actual_value": value,
         "id": zid(org.prefix, 50_000_000 + (int(f.id) % 10**7) * 100 + index),
         "sequence_number": index + 1, "type": "used", "colour_code": None, "reference_value": value,
         "maps": [], "expected_data_type": None}
        for index, value in enumerate(f.picklist)
    ] if data_type in ("picklist", "multiselectpicklist") else []
    permission = "read_only" if f.read_only else "read_write"
    return {
        "associated_module": associated_module,
        "data_type": data_type,
        "operation_type": {"web_update": not f.read_only, "api_create": not f.read_only,
                           "web_create": not f.read_only, "api_update": not f.read_only},
        "system_mandatory": f.mandatory,
        "webhook": True,
        "sequence_number": sequence,
        "blueprint_supported": False,
        "virtual_field": False,
        "field_read_only": f.read_only,
        "customizable_properties": [] if not f.custom else ["tooltip", "required", "unique"],
        "read_only": f.read_only,
        "custom_field": f.custom,
        "businesscard_supported": not f.read_only,
        "filterable": data_type != "subform",
        "visible": True,
        "available_in_user_layout": True,
        "display_field": f.api_name == module.display_field,
        "pick_list_values_sorted_lexically": False,
        "sortable": data_type not in ("subform", "multiselectpicklist", "textarea", "linetax"),
        "layout_associations": [layout_ref(org, module)],
        "separator": False,
        "searchable": data_type not in ("subform", "linetax"),
        "enable_colour_code": False,
        "mass_update": not f.read_only and data_type != "subform",
        "json_type": f.json_type,
        "created_source": "custom" if f.custom else "default",
        "type": "used",
        "display_label": f.label,
        "column_name": f.api_name.upper(),
        "api_name": f.api_name,
        "display_type": -1,
        "ui_type": _ui_type(f),
        "colour_code_enabled_by_system": False,
        "length": f.length,
        "decimal_place": f.decimal_place,
        "quick_sequence_number": str(sequence),
        "email_parser": {"fields_update_supported": False, "record_operations_supported": True},
        "rollup_summary": None,
        "refer_from_field": None,
        "created_time": None,
        "modified_time": None,
        "show_type": 7,
        "category": 0,
        "id": f.id,
        "multi_module_lookup": None,
        "sharing_properties": None,
        "currency": {"rounding_option": "normal", "precision": f.decimal_place}
        if data_type == "currency" else None,
        "file_upolad_optionlist": [],
        "lookup": lookup or None,
        "profiles": [{**profile, "permission_type": permission} for profile in profiles(org)],
        "view_type": {"view": True, "edit": not f.read_only, "quick_create": f.mandatory, "create": not f.read_only},
        "unique": {"casesensitive": "false"} if f.unique else None,
        "sub_module": None,
        "subform": subform,
        "external": None,
        "formula": None,
        "private": None,
        "convert_mapping": {},
        "multiselectlookup": None,
        "multiuserlookup": None,
        "autonumber": {"starting_number_length": 7, "prefix": "INV-", "suffix": "", "start_number": 1}
        if data_type == "autonumber" else None,
        "auto_number": None,
        "pick_list_values": picklist,
        "crypt": None,
        "tooltip": None,
        "history_tracking": None,
        "association_details": None,
        "allowed_modules": [],
        "additional_column": None,
        "field_label": f.label,
        "common.picklist": None,
        "hipaa_compliance_enabled": False,
        "hipaa_compliance": {"restricted_in_export": False, "restricted": False},
        "_update_existing_records": False,
        "number_separator": data_type in ("integer", "double", "currency", "bigint"),
        "textarea": {"type": "large"} if data_type == "textarea" else None,
        "static_field": False,
    }


def _ui_type(f: FieldDef) -> int:
    from portal.sandbox.zoho.catalog import UI_TYPES

    return UI_TYPES[f.data_type]


def module_json(org: Org, metadata: Metadata, module: ModuleDef) -> dict[str, Any]:
    user = minified_user(org.current_user)
    display = module.field_map.get(module.display_field)
    custom = module.generated_type == "custom"
    return {
        "has_more_profiles": False,
        "sub_menu_available": False,
        "common.search_supported": module.api_supported,
        "deletable": custom,
        "description": None,
        "creatable": module.api_supported,
        "recycle_bin_on_delete": True,
        "inventory_template_supported": module.api_name == "Invoices",
        "modified_time": org.format_time(ORG_CREATED) if custom else None,
        "plural_label": module.plural,
        "presence_sub_menu": False,
        "triggers_supported": True,
        "id": module.id,
        "chart_view": False,
        "isBlueprintSupported": True,
        "visibility": 1,
        "visible": True,
        "convertable": False,
        "editable": True,
        "emailTemplate_support": True,
        "email_parser_supported": module.api_supported,
        "filter_supported": True,
        "show_as_tab": not module.is_subform,
        "web_link": None,
        "sequence_number": module.sequence,
        "singular_label": module.singular,
        "viewable": True,
        "api_supported": module.api_supported,
        "api_name": module.api_name,
        "quick_create": module.api_supported,
        # Subform modules (Invoiced_Items) are listed as default modules that the API cannot address directly.
        "generated_type": "default" if module.is_subform else module.generated_type,
        "feeds_required": False,
        "scoring_supported": False,
        "webform_supported": module.api_supported,
        "arguments": [],
        "module_name": module.plural,
        "chart_view_supported": True,
        "profile_count": 2,
        "business_card_field_limit": 5,
        "track_current_data": False,
        "modified_by": user if custom else None,
        "profiles": profiles(org),
        "parent_module": {"api_name": module.parent_module, "id": metadata.modules[module.parent_module].id}
        if module.parent_module else {},
        "activity_badge": "Disabled",
        "$field_states": [],
        "business_card_fields": [module.display_field],
        "per_page": 200,
        "$properties": [],
        "$on_demand_properties": [],
        "search_layout_fields": [module.display_field],
        "kanban_view_supported": True,
        "lookup_field_properties": {"fields": [
            {"sequence_number": 1, "api_name": module.display_field, "id": display.id if display else None}]},
        "kanban_view": False,
        "related_lists": [],
        "filter_status": True,
        "related_list_properties": {
            "sort_by": {"api_name": "Modified_Time", "id": module.field_map["Modified_Time"].id}
            if "Modified_Time" in module.field_map else {"api_name": module.display_field,
                                                         "id": display.id if display else None},
            "fields": [module.display_field], "sort_order": "desc"},
        "display_field": {"api_name": module.display_field, "id": display.id if display else None},
        "layouts": [layout_ref(org, module)],
        "fields": [],
        "custom_view": None,
        "zia_view": False,
        "default_mapping_fields": [],
        "status": "visible",
        "layout_associations": [layout_ref(org, module)],
    }


def related_list_json(org: Org, metadata: Metadata, module: ModuleDef, related: str, position: int) -> dict[str, Any]:
    target = metadata.modules[related]
    return {
        "id": zid(org.prefix, int(module.id[-7:]) + 500 + position),
        "sequence_number": str(position + 1),
        "display_label": target.plural,
        "api_name": related,
        "module": {"api_name": related, "id": target.id},
        "name": related,
        "action": None,
        "href": f"{module.api_name}/{{ENTITYID}}/{related}",
        "type": "default",
        "visible": True,
        "customize_sort": False,
        "customize_fields": False,
        "customize_display_label": False,
        "sort_by": {"api_name": "Modified_Time", "id": target.field_map["Modified_Time"].id},
        "sort_order": "desc",
        "fields": [{"api_name": target.display_field, "id": target.field_map[target.display_field].id}],
        "status": "visible",
    }


def layout_json(org: Org, metadata: Metadata, module: ModuleDef) -> dict[str, Any]:
    user = minified_user(org.current_user)
    ref = layout_ref(org, module)
    fields = [{**field_json(org, metadata, module, f, index + 1), "required": f.mandatory,
               "validation_rule": None, "default_value": None, "section_id": int(ref["id"][-6:]) + 1,
               "static_values": [], "_delete": None}
              for index, f in enumerate(module.fields)]
    return {
        "has_more_profiles": False, "created_time": org.format_time(ORG_CREATED),
        "modified_time": org.format_time(ORG_CREATED), "visible": True, "source": "crm", "id": ref["id"],
        "name": "Standard", "display_label": "Standard", "mode": None, "subform_properties": None,
        "status": "active", "show_business_card": False, "generated_type": "default", "created_for": None,
        "convert_mapping": {"Contacts": None, "Deals": None, "Accounts": None, "Invoices": None,
                            "SalesOrders": None},
        "modified_by": user, "created_by": user,
        "profiles": [{**profile, "default": True, "_default_view": {"name": "Standard", "id": ref["id"],
                                                                    "type": "layout"}}
                     for profile in profiles(org)],
        "sections": [{
            "display_label": f"{module.singular} Information", "sequence_number": 1, "isSubformSection": False,
            "tab_traversal": "1", "api_name": f"{module.singular.replace(' ', '_')}_Information", "column_count": 2,
            "name": f"{module.singular} Information", "generated_type": "default",
            "id": str(int(ref["id"]) + 1), "type": "used", "fields": fields, "properties": None,
            "_delete": None,
        }],
        "actions_allowed": {"edit": True, "rename": True, "clone": True, "downgrade": False, "delete": False,
                            "deactivate": False, "set_layout_permissions": True},
    }


def user_json(org: Org, user: dict[str, Any]) -> dict[str, Any]:
    created = org.format_time(ORG_CREATED)
    return {
        "country": org.country_code, "language": "en_US", "microsoft": False, "$shift_effective_from": None,
        "id": user["id"], "state": None, "fax": None, "country_locale": "en_US", "zip": None,
        "created_time": created, "time_format": "hh:mm a", "offset": _offset_millis(org),
        "profile": {"name": user["profile"], "id": zid(org.prefix, 26011 if user["profile"] == "Administrator"
                                                      else 26014)},
        "role": {"name": user["role"], "id": zid(org.prefix, 26005)},
        "created_by": minified_user(org.current_user), "full_name": user["full_name"], "zuid": user["zuid"],
        "phone": None, "dob": None, "status": "active",
        "customize_info": {"notes_desc": None, "show_right_panel": None, "bc_view": None,
                           "unpin_recent_item": None, "show_home": False, "show_detail_view": True},
        "city": None, "signature": None, "sort_order_preference__s": "First Name,Last Name", "category": "regular_user",
        "date_format": "MMM d, yyyy", "confirm": True, "decimal_separator": "Period", "number_separator": "Space",
        "time_zone": org.time_zone, "last_name": user["last_name"], "mobile": None,
        "$current_shift": None, "Reporting_To": None, "Currency": org.currency, "$next_shift": None,
        "Modified_Time": created, "website": None, "status_reason__s": None, "email": user["email"],
        "first_name": user["first_name"], "sandboxDeveloper": False, "alias": None, "street": None,
        "Modified_By": {"name": org.current_user["full_name"], "id": org.current_user["id"],
                        "last_name": org.current_user["last_name"], "first_name": org.current_user["first_name"]},
        "Isonline": True, "locale": "en_US", "name_format__s": "Salutation,First Name,Last Name",
        "personal_account": False, "default_tab_group": "0",
        "theme": {"normal_tab": {"font_color": "#FFFFFF", "background": "#222222"},
                  "selected_tab": {"font_color": "#FFFFFF", "background": "#222222"},
                  "new_background": None, "background": "#F3F0EB", "screen": "fixed", "type": "default"},
        "sort_order_preference": "First Name,Last Name",
    }


def _offset_millis(org: Org) -> int:
    from datetime import datetime

    offset = datetime.now(org.zone).utcoffset()
    return int(offset.total_seconds() * 1000) if offset else 0


CURRENCY_NAMES = {"USD": ("US Dollar", "$"), "EUR": ("Euro", "€"), "INR": ("Indian Rupee", "₹"),
                  "AUD": ("Australian Dollar", "A$"), "JPY": ("Japanese Yen", "¥"), "CAD": ("Canadian Dollar", "C$"),
                  "GBP": ("Pound Sterling", "£"), "SAR": ("Saudi Riyal", "SAR"), "CNY": ("Chinese Yuan", "¥"),
                  "NZD": ("New Zealand Dollar", "NZ$")}


def org_json(org: Org) -> dict[str, Any]:
    name, symbol = CURRENCY_NAMES.get(org.currency, (org.currency, org.currency))
    admin = org.current_user
    return {
        "country": org.country_code, "photo_id": None, "city": None, "description": None, "mc_status": True,
        "gapps_enabled": False, "translation_enabled": False, "street": None,
        "domain_name": f"org{org.zgid}", "alias": None, "currency": f"{name} - {org.currency}",
        "id": org.id, "state": None, "fax": None, "zip": None, "employee_count": "10",
        "website": "www.zylker.example", "currency_symbol": symbol, "mobile": None, "currency_locale": "en_US",
        "primary_zuid": admin["zuid"], "zia_portal_id": None, "time_zone": org.time_zone, "zgid": org.zgid,
        "country_code": org.country_code, "deletable_org_account": False,
        "license_details": {"paid_expiry": "2099-12-31T23:59:59+00:00", "users_license_purchased": org.user_licences,
                            "trial_type": None, "trial_expiry": None, "paid": org.edition != "Free",
                            "paid_type": org.edition.lower(), "trial_action": ""},
        "hierarchy_preferences": {"type": "Role_Hierarchy", "strictly_reporting": False},
        "phone": "+1 555 0100", "company_name": org.company_name, "privacy_settings": False,
        "primary_email": admin["email"], "iso_code": org.currency, "hipaa_compliance_enabled": False,
        "lite_users_enabled": False, "max_per_page": 200, "ezgid": f"e{org.zgid}", "call_icon": "",
        "oauth_presence": True, "zia_zgid": int(org.zgid), "checkin_preferences": {"restricted_event_types": None},
        "type": "Production", "created_time": org.format_time(ORG_CREATED),
    }
