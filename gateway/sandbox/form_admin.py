"""Field properties as the app administration API accepts them: validation, defaults, merging.

``POST/PUT preview/app/form/fields.json`` send partial property objects. Each one is checked
against section 14.2 of the spec, completed with Kintone's defaults for omitted settings (so
``GET .../fields.json`` always returns complete objects, numeric settings as strings), and the
whole form is then checked for what spans fields: unique codes (subtable inner fields included),
lookup mappings, related-records conditions and formulas.

Validation errors are collected in one ``Problems`` (CB_VA01), keyed like Kintone's:
``properties[<code>].<setting>`` and ``properties[<table>].fields[<code>].<setting>``.
"""

from __future__ import annotations

import copy
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .calc import check_expression
from .errors import KintoneError, Problems
from .fields import (
    FEATURE_TYPES,
    LAYOUT_ONLY_TYPES,
    OPTION_TYPES,
    SUBTABLE_INNER_TYPES,
    SYSTEM_TYPES,
    USER_TYPES,
    Form,
    calc_format_is_numeric,
)

ADDABLE_TYPES = USER_TYPES - (LAYOUT_ONLY_TYPES - {"GROUP", "REFERENCE_TABLE"})
MAX_CODE_LENGTH = 128
# Letters (any script), digits, "_" and the few full-width symbols Kintone allows; no leading digit.
_CODE_RE = re.compile(r"[^\W\d][\w・$￥＿]*|[_・$￥＿][\w・$￥＿]*")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_RE = re.compile(r"\d{2}:\d{2}")
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:\d{2})")

_FLAGS = {"required": False}
_UNIQUE = {"unique": False}
_LENGTHS = {"minLength": "", "maxLength": ""}
_UNIT = {"displayScale": "", "unit": "", "unitPosition": "BEFORE"}
_SELECT = {"required": False, "defaultValue": [], "entities": []}

# Kintone's value of every setting a field type has, used for the settings a request omits.
TYPE_DEFAULTS: dict[str, dict[str, Any]] = {
    "SINGLE_LINE_TEXT": {**_FLAGS, **_UNIQUE, "defaultValue": "", **_LENGTHS, "expression": "",
                         "hideExpression": False},
    "NUMBER": {**_FLAGS, **_UNIQUE, "defaultValue": "", "minValue": "", "maxValue": "",
               "digit": False, **_UNIT},
    "CALC": {**_FLAGS, "expression": "", "hideExpression": False, "format": "NUMBER", **_UNIT},
    "MULTI_LINE_TEXT": {**_FLAGS, "defaultValue": ""},
    "RICH_TEXT": {**_FLAGS, "defaultValue": ""},
    "LINK": {**_FLAGS, **_UNIQUE, "defaultValue": "", **_LENGTHS, "protocol": "WEB"},
    "CHECK_BOX": {**_FLAGS, "defaultValue": [], "options": {}, "align": "HORIZONTAL"},
    "RADIO_BUTTON": {**_FLAGS, "defaultValue": "", "options": {}, "align": "HORIZONTAL"},
    "DROP_DOWN": {**_FLAGS, "defaultValue": "", "options": {}},
    "MULTI_SELECT": {**_FLAGS, "defaultValue": [], "options": {}},
    "FILE": {**_FLAGS, "thumbnailSize": "50"},
    "DATE": {**_FLAGS, **_UNIQUE, "defaultValue": "", "defaultNowValue": False},
    "DATETIME": {**_FLAGS, **_UNIQUE, "defaultValue": "", "defaultNowValue": False},
    "TIME": {**_FLAGS, "defaultValue": "", "defaultNowValue": False},
    "USER_SELECT": dict(_SELECT),
    "ORGANIZATION_SELECT": dict(_SELECT),
    "GROUP_SELECT": dict(_SELECT),
    "GROUP": {"openGroup": False},
    "REFERENCE_TABLE": {"referenceTable": None},
    "SUBTABLE": {},  # its inner fields are built separately
}
LOOKUP_BASE_TYPES = {"SINGLE_LINE_TEXT", "NUMBER"}
LOOKUP_KEY_TYPES = {
    "SINGLE_LINE_TEXT": {"SINGLE_LINE_TEXT", "LINK", "CALC", "RECORD_NUMBER"},
    "NUMBER": {"NUMBER", "CALC", "RECORD_NUMBER"},
}
ENUMS = {
    "unitPosition": ("BEFORE", "AFTER"),
    "format": ("NUMBER", "NUMBER_DIGIT", "DATETIME", "DATE", "TIME", "HOUR_MINUTE",
               "DAY_HOUR_MINUTE"),
    "protocol": ("WEB", "CALL", "MAIL"),
    "align": ("HORIZONTAL", "VERTICAL"),
    "thumbnailSize": ("50", "150", "250", "500"),
}
REFERENCE_SIZES = ("1", "3", "5", "10", "20", "30", "40", "50")
ENTITY_TYPES = ("USER", "GROUP", "ORGANIZATION")
SELECT_FUNCTIONS = {"USER_SELECT": "LOGINUSER()", "ORGANIZATION_SELECT": "PRIMARY_ORGANIZATION()"}
# System fields keep their type; only these settings can change through the API.
SYSTEM_EDITABLE = ("label", "noLabel")


def as_bool(value: Any) -> bool:
    """Kintone accepts booleans as JSON booleans or as the strings "true" / "false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise KintoneError("CB_IJ01")


def as_text(value: Any) -> str:
    if isinstance(value, dict | list | bool):
        raise KintoneError("CB_IJ01")
    return "" if value is None else str(value)


def _json_clone(value: Any) -> Any:
    return copy.deepcopy(value)


@dataclass
class FieldBuilder:
    """Builds complete properties for one request, collecting every problem it finds.

    ``taken`` holds the codes already in use by fields the request does not rebuild. With
    ``renames`` (PUT), a ``code`` different from its key renames the field; ``renamed`` records it.
    """

    conn: sqlite3.Connection
    app_id: int
    problems: Problems
    taken: set[str] = field(default_factory=set)
    renames: bool = False
    renamed: dict[str, str] = field(default_factory=dict)  # old code -> new code

    # -- one field ----------------------------------------------------------------------------

    def build(self, key: str, raw: Any, prefix: str, *, inner: bool = False) -> dict | None:
        """The complete property of field ``key``; None (with problems noted) when invalid."""
        if not isinstance(raw, dict):
            raise KintoneError("CB_IJ01")
        ftype = raw.get("type")
        allowed = SUBTABLE_INNER_TYPES if inner else ADDABLE_TYPES
        if ftype not in allowed:
            self.problems.add(f"{prefix}.type", "enum" if ftype else "required_param")
            return None
        code = self._code(key, raw, prefix)
        label = raw.get("label")
        if label is None and ftype != "SUBTABLE":
            self.problems.add(f"{prefix}.label", "required_param")
        prop: dict[str, Any] = {"type": ftype, "code": code, "label": as_text(label),
                                "noLabel": as_bool(raw.get("noLabel", False))}
        if ftype in LOOKUP_BASE_TYPES and raw.get("lookup"):
            # A lookup key field has only these keys: its base type's own settings are absent.
            prop["required"] = as_bool(raw.get("required", False))
            prop["lookup"] = self._lookup(raw["lookup"], ftype, f"{prefix}.lookup")
            return prop
        for name, default in TYPE_DEFAULTS[ftype].items():
            value = raw.get(name, _json_clone(default))
            prop[name] = self._setting(ftype, name, value, f"{prefix}.{name}")
        if ftype == "SUBTABLE":
            prop["fields"] = self._inner_fields(raw.get("fields"), prefix)
        if ftype == "RADIO_BUTTON":
            _radio_defaults(prop, raw)
        self._check_consistency(prop, prefix)
        return prop

    def _code(self, key: str, raw: dict, prefix: str) -> str:
        # The code may be omitted: the key names the field (lenient; Kintone documents both).
        code = as_text(raw.get("code", key))
        if code != key:
            if self.renames:
                self.renamed[key] = code
            else:
                self.problems.add(f"{prefix}.code", "code_mismatch")
        check_code(code, f"{prefix}.code", self.problems)
        if code in self.taken:
            self.problems.add(f"{prefix}.code", "duplicate_code")
        self.taken.add(code)
        return code

    def _inner_fields(self, raw: Any, prefix: str) -> dict:
        if not isinstance(raw, dict):
            if raw is not None:
                raise KintoneError("CB_IJ01")
            raw = {}
        if not raw:
            self.problems.add(f"{prefix}.fields", "required_param")
        inner: dict[str, dict] = {}
        for key, item in raw.items():
            prop = self.build(key, item, f"{prefix}.fields[{key}]", inner=True)
            if prop is not None:
                inner[prop["code"]] = prop
        return inner

    # -- settings -----------------------------------------------------------------------------

    def _setting(self, ftype: str, name: str, value: Any, key: str) -> Any:
        if name in ("required", "unique", "hideExpression", "digit", "defaultNowValue",
                    "openGroup"):
            return as_bool(value)
        if name in ENUMS:
            text = as_text(value)
            if text not in ENUMS[name]:
                self.problems.add(key, "enum")
            return text
        handler = _SETTING_HANDLERS.get(name)
        if handler is not None:
            return handler(self, ftype, value, key)
        return as_text(value)

    def _length(self, ftype: str, value: Any, key: str) -> str:
        text = as_text(value).strip()
        if text and not (text.isdigit() and int(text) <= 2**31 - 1):
            self.problems.add(key, "not_integer")
        return str(int(text)) if text.isdigit() else text

    def _decimal(self, ftype: str, value: Any, key: str) -> str:
        text = as_text(value).strip()
        if text and _as_decimal(text) is None:
            self.problems.add(key, "not_number")
        return text

    def _scale(self, ftype: str, value: Any, key: str) -> str:
        text = as_text(value).strip()
        if text and not (text.isdigit() and int(text) <= 10):
            self.problems.add(key, "scale_range")
        return str(int(text)) if text.isdigit() else text

    def _default_value(self, ftype: str, value: Any, key: str) -> Any:
        if ftype in ("CHECK_BOX", "MULTI_SELECT"):
            return [as_text(v) for v in as_list(value)]
        if ftype in SELECT_FUNCTIONS or ftype == "GROUP_SELECT":
            return self._entities(ftype, value, key, allow_function=True)
        text = as_text(value)
        if text and ftype == "NUMBER" and _as_decimal(text) is None:
            self.problems.add(key, "not_number")
        pattern = {"DATE": _DATE_RE, "TIME": _TIME_RE, "DATETIME": _DATETIME_RE}.get(ftype)
        if text and pattern is not None and not pattern.fullmatch(text):
            self.problems.add(key, "invalid_value")
        return text

    def _entity_list(self, ftype: str, value: Any, key: str) -> list[dict]:
        return self._entities(ftype, value, key, allow_function=False)

    def _entities(self, ftype: str, value: Any, key: str, *, allow_function: bool) -> list[dict]:
        out = []
        for i, item in enumerate(as_list(value)):
            if not isinstance(item, dict):
                raise KintoneError("CB_IJ01")
            etype = as_text(item.get("type"))
            allowed = ENTITY_TYPES + (("FUNCTION",) if allow_function else ())
            if etype not in allowed or not item.get("code"):
                self.problems.add(f"{key}[{i}]", "invalid_value")
            elif etype == "FUNCTION" and item["code"] != SELECT_FUNCTIONS.get(ftype):
                self.problems.add(f"{key}[{i}].code", "invalid_value")
            out.append({"code": as_text(item.get("code")), "type": etype})
        return out

    def _options(self, ftype: str, value: Any, key: str) -> dict:
        if not isinstance(value, dict):
            raise KintoneError("CB_IJ01")
        if not value:
            self.problems.add(key, "required_param")
        options: dict[str, dict] = {}
        for position, (name, option) in enumerate(value.items()):
            if not isinstance(option, dict):
                raise KintoneError("CB_IJ01")
            label = as_text(option.get("label", name))
            # Record values hold option names, so an option's label is its key.
            if not name or label != name:
                self.problems.add(f"{key}.{name}.label", "invalid_value")
            index = as_text(option.get("index", position)).strip()
            if not index.isdigit():
                self.problems.add(f"{key}.{name}.index", "not_integer")
            options[name] = {"label": label, "index": str(int(index)) if index.isdigit() else index}
        return options

    def _reference_table(self, ftype: str, value: Any, key: str) -> dict:
        if not isinstance(value, dict):
            if value is not None:
                raise KintoneError("CB_IJ01")
            self.problems.add(key, "required_param")
            value = {}
        related = self._related_app(value.get("relatedApp"), f"{key}.relatedApp")
        condition = value.get("condition") or {}
        if not isinstance(condition, dict):
            raise KintoneError("CB_IJ01")
        related_field = as_text(condition.get("relatedField"))
        if related is not None and related.get(related_field) is None:
            self.problems.add(f"{key}.condition.relatedField", "unknown_field", related_field)
        display = [as_text(code) for code in as_list(value.get("displayFields"))]
        for i, code in enumerate(display):
            if related is not None and related.get(code) is None:
                self.problems.add(f"{key}.displayFields[{i}]", "unknown_field", code)
        size = as_text(value.get("size", "5"))
        if size not in REFERENCE_SIZES:
            self.problems.add(f"{key}.size", "enum")
        return {
            "relatedApp": self._related_app_ref(value.get("relatedApp")),
            "condition": {"field": as_text(condition.get("field")), "relatedField": related_field},
            "filterCond": as_text(value.get("filterCond", "")),
            "displayFields": display,
            "sort": as_text(value.get("sort", _newest_first(related))),
            "size": size,
        }

    # -- lookups and related apps -------------------------------------------------------------

    def _lookup(self, raw: Any, ftype: str, key: str) -> dict:
        if not isinstance(raw, dict):
            raise KintoneError("CB_IJ01")
        related = self._related_app(raw.get("relatedApp"), f"{key}.relatedApp")
        key_field = as_text(raw.get("relatedKeyField"))
        if related is not None:
            fd = related.get(key_field)
            if fd is None or fd.table or fd.type not in LOOKUP_KEY_TYPES[ftype] or (
                    fd.type == "CALC" and calc_format_is_numeric(fd.props) != (ftype == "NUMBER")):
                self.problems.add(f"{key}.relatedKeyField", "invalid_value")
        mappings = []
        for i, mapping in enumerate(as_list(raw.get("fieldMappings"))):
            if not isinstance(mapping, dict):
                raise KintoneError("CB_IJ01")
            related_field = as_text(mapping.get("relatedField"))
            if related is not None and related.get(related_field) is None:
                self.problems.add(f"{key}.fieldMappings[{i}].relatedField", "unknown_field",
                                  related_field)
            mappings.append({"field": as_text(mapping.get("field")), "relatedField": related_field})
        pickers = [as_text(code) for code in as_list(raw.get("lookupPickerFields"))]
        for i, code in enumerate(pickers):
            if related is not None and related.get(code) is None:
                self.problems.add(f"{key}.lookupPickerFields[{i}]", "unknown_field", code)
        return {
            "relatedApp": self._related_app_ref(raw.get("relatedApp")),
            "relatedKeyField": key_field,
            "fieldMappings": mappings,
            "lookupPickerFields": pickers,
            "filterCond": as_text(raw.get("filterCond", "")),
            "sort": as_text(raw.get("sort", _newest_first(related))),
        }

    def _related_app_row(self, ref: Any) -> sqlite3.Row | None:
        if not isinstance(ref, dict):
            return None
        if ref.get("app") not in (None, ""):
            app = as_text(ref["app"]).strip()
            if not app.isdigit():
                return None
            return self.conn.execute(
                "SELECT id, code, live, deployed FROM apps WHERE id = ?", (int(app),)
            ).fetchone()
        if ref.get("code"):
            return self.conn.execute(
                "SELECT id, code, live, deployed FROM apps WHERE code = ? AND code != ''",
                (as_text(ref["code"]),),
            ).fetchone()
        return None

    def _related_app(self, ref: Any, key: str) -> Form | None:
        """The deployed form of a lookup's or related-records field's source app."""
        if ref is not None and not isinstance(ref, dict):
            raise KintoneError("CB_IJ01")
        row = self._related_app_row(ref)
        if row is None or not row["deployed"]:
            self.problems.add(f"{key}.app", "invalid_value")
            return None
        return Form(json.loads(row["live"])["properties"])

    def _related_app_ref(self, ref: Any) -> dict:
        row = self._related_app_row(ref)
        if row is None:
            return {"app": "", "code": ""}
        return {"app": str(row["id"]), "code": row["code"]}

    # -- cross-setting checks -----------------------------------------------------------------

    def _check_consistency(self, prop: dict, prefix: str) -> None:
        ftype = prop["type"]
        for low, high in (("minLength", "maxLength"), ("minValue", "maxValue")):
            least, most = _as_decimal(prop.get(low, "")), _as_decimal(prop.get(high, ""))
            if least is not None and most is not None and least > most:
                self.problems.add(f"{prefix}.{low}", "invalid_value")
        if ftype == "CALC" and not prop["expression"].strip():
            self.problems.add(f"{prefix}.expression", "required_param")
        if ftype in OPTION_TYPES:
            chosen = prop["defaultValue"]
            for value in chosen if isinstance(chosen, list) else [chosen]:
                if value and value not in prop["options"]:
                    self.problems.add(f"{prefix}.defaultValue", "not_option", value)


_SETTING_HANDLERS: dict[str, Callable[[FieldBuilder, str, Any, str], Any]] = {
    "minLength": FieldBuilder._length,
    "maxLength": FieldBuilder._length,
    "minValue": FieldBuilder._decimal,
    "maxValue": FieldBuilder._decimal,
    "displayScale": FieldBuilder._scale,
    "defaultValue": FieldBuilder._default_value,
    "entities": FieldBuilder._entity_list,
    "options": FieldBuilder._options,
    "referenceTable": FieldBuilder._reference_table,
}


def _radio_defaults(prop: dict, raw: dict) -> None:
    """A radio button always has a choice in Kintone: unless told otherwise it is required and
    defaults to its first option (by ``index``)."""
    if "required" not in raw:
        prop["required"] = True
    options = prop["options"]
    if "defaultValue" not in raw and options:
        indexes = {name: option["index"] for name, option in options.items()}
        prop["defaultValue"] = min(options, key=lambda name: int(indexes[name])
                                   if indexes[name].isdigit() else 0)


def _newest_first(related: Form | None) -> str:
    """The sort Kintone gives a lookup or related-records field sent without one: the source
    app's record number, descending (``レコード番号 desc`` on a Japanese tenant)."""
    number = related.of_type("RECORD_NUMBER") if related is not None else None
    return f"{number.code} desc" if number is not None else ""


def _as_decimal(text: str) -> Decimal | None:
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def as_list(value: Any) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise KintoneError("CB_IJ01")
    return value


def check_code(code: str, key: str, problems: Problems) -> None:
    if not code:
        problems.add(key, "required_param")
    elif len(code) > MAX_CODE_LENGTH:
        problems.add(key, "max_length", MAX_CODE_LENGTH + 1)
    elif not _CODE_RE.fullmatch(code):
        problems.add(key, "invalid_code")


# ---------------------------------------------------------------------------------------------
# Whole-form operations


@dataclass
class FormChange:
    """The outcome of one fields request: the new properties and the codes renamed by it."""

    properties: dict[str, dict]
    renamed: dict[str, str] = field(default_factory=dict)  # old code -> new code
    added: list[str] = field(default_factory=list)  # new top-level codes, in request order


def add_fields(conn: sqlite3.Connection, app_id: int, properties: dict, incoming: Any,
               lang: str) -> FormChange:
    """POST: new fields added to ``properties`` (the preview form), fully validated."""
    incoming = _require_properties(incoming, lang)
    problems = Problems(lang)
    builder = FieldBuilder(conn, app_id, problems, taken=set(_codes(properties)))
    new = dict(properties)
    change = FormChange(new)
    for key, raw in incoming.items():
        prop = builder.build(key, raw, f"properties[{key}]")
        if prop is not None:
            new[prop["code"]] = prop
            change.added.append(prop["code"])
    _check_form(new, change.added, problems)
    return change


def update_fields(conn: sqlite3.Connection, app_id: int, properties: dict, incoming: Any,
                  lang: str) -> FormChange:
    """PUT: settings merged into existing fields (codes may be renamed, types may not change)."""
    incoming = _require_properties(incoming, lang)
    for key in incoming:
        if Form(properties).get(key) is None:
            raise KintoneError("GAIA_FC01", (key,))
    problems = Problems(lang)
    change = FormChange(_json_clone(properties))
    touched: list[str] = []
    for key, raw in incoming.items():
        if not isinstance(raw, dict):
            raise KintoneError("CB_IJ01")
        table = _table_of(properties, key)
        if table is not None:  # an inner field: rebuild its table with the merged field
            raw, key = {"type": "SUBTABLE", "fields": {key: raw}}, table
        current = change.properties[change.renamed.get(key, key)]
        prefix = f"properties[{key}]"
        if raw.get("type", current["type"]) != current["type"]:
            problems.add(f"{prefix}.type", "type_change")
        elif current["type"] in SYSTEM_TYPES | FEATURE_TYPES:
            _update_system(current, raw)
        else:
            prop = _rebuild(conn, app_id, change, current, raw, prefix, problems)
            if prop is not None:
                touched.append(prop["code"])
    change.properties = _reorder(properties, change.properties, change.renamed)
    _check_form(change.properties, touched, problems)
    return change


def _rebuild(conn: sqlite3.Connection, app_id: int, change: FormChange, current: dict, raw: dict,
             prefix: str, problems: Problems) -> dict | None:
    """Replace ``current`` in ``change`` by its merge with ``raw``; None when invalid."""
    merged = _merge(current, raw, prefix, problems)
    others = {c: p for c, p in change.properties.items() if c != current["code"]}
    builder = FieldBuilder(conn, app_id, problems, taken=set(_codes(others)), renames=True)
    prop = builder.build(current["code"], merged, prefix) if merged is not None else None
    if prop is None:
        return None
    change.renamed.update(builder.renamed)
    change.properties.pop(current["code"])
    change.properties[prop["code"]] = prop
    return prop


def delete_fields(properties: dict, codes: list[str], lang: str) -> dict:
    """DELETE: the form without ``codes`` (top-level or subtable inner fields)."""
    form = Form(properties)
    new = _json_clone(properties)
    problems = Problems(lang)
    for i, code in enumerate(codes):
        fd = form.get(code)
        if fd is None:
            raise KintoneError("GAIA_FC01", (code,))
        if fd.type in SYSTEM_TYPES | FEATURE_TYPES:
            problems.add(f"fields[{i}]", "not_removable")
    problems.raise_if_any()
    for code in codes:
        fd = form.get(code)
        if fd.table is None:
            new.pop(code, None)
        elif fd.table in new:
            new[fd.table]["fields"].pop(code, None)
    for prop in new.values():
        if prop.get("lookup"):
            prop["lookup"]["fieldMappings"] = [
                m for m in prop["lookup"]["fieldMappings"] if m["field"] not in codes
            ]
    return new


def _require_properties(incoming: Any, lang: str) -> dict:
    if incoming is None:
        problems = Problems(lang)
        problems.add("properties", "required_param")
        problems.raise_if_any()
    if not isinstance(incoming, dict):
        raise KintoneError("CB_IJ01")
    return incoming


def _merge(existing: dict, raw: dict, prefix: str, problems: Problems) -> dict | None:
    """The request's settings over the existing ones; None when an inner type would change.

    Options are replaced as a whole (options a request leaves out are deleted, as in Kintone).
    """
    merged = {**existing, **{k: v for k, v in raw.items() if k != "fields"}}
    if existing.get("lookup") and "lookup" not in raw:
        merged["lookup"] = existing["lookup"]
    if existing["type"] == "SUBTABLE":
        inner = dict(existing.get("fields", {}))
        changes = raw.get("fields") or {}
        if not isinstance(changes, dict):
            raise KintoneError("CB_IJ01")
        for code, item in changes.items():
            if not isinstance(item, dict):
                raise KintoneError("CB_IJ01")
            if code in inner:
                if item.get("type", inner[code]["type"]) != inner[code]["type"]:
                    problems.add(f"{prefix}.fields[{code}].type", "type_change")
                    return None
                item = {**inner[code], **item}
            inner[code] = item
        merged["fields"] = inner
    return merged


def _update_system(existing: dict, raw: dict) -> None:
    """Label changes of system fields, applied in place (their codes and types stay)."""
    for name in SYSTEM_EDITABLE:
        if name in raw and name in existing:
            existing[name] = as_bool(raw[name]) if name == "noLabel" else as_text(raw[name])


def _reorder(old: dict, new: dict, renamed: dict[str, str]) -> dict:
    """Keep the form's field order across renames."""
    ordered = {}
    for code in old:
        target = renamed.get(code, code)
        if target in new:
            ordered[target] = new[target]
    for code, prop in new.items():
        ordered.setdefault(code, prop)
    return ordered


def _table_of(properties: dict, code: str) -> str | None:
    fd = Form(properties).get(code)
    return fd.table if fd is not None else None


def _codes(properties: dict) -> list[str]:
    return [fd.code for fd in Form(properties).all()]


def _check_form(properties: dict, changed: list[str], problems: Problems) -> None:
    """Checks that need the whole new form: lookup targets, related-records conditions, formulas.

    CB_VA01 problems are raised before formula errors (GAIA_IL01), as Kintone reports them.
    """
    form = Form(properties)
    changed_fields = [fd for fd in form.all() if fd.code in changed or fd.table in changed]
    for fd in changed_fields:
        prefix = _prefix(fd.code, fd.table)
        if fd.lookup:
            _check_mappings(form, fd.code, fd.table, fd.lookup, prefix, problems)
        reference = fd.props.get("referenceTable")
        if reference and form.get(reference["condition"]["field"]) is None:
            problems.add(f"{prefix}.referenceTable.condition.field", "unknown_field",
                         reference["condition"]["field"])
    problems.raise_if_any()
    for fd in changed_fields:
        if fd.props.get("expression") and fd.type in ("CALC", "SINGLE_LINE_TEXT"):
            check_expression(fd.props["expression"], form, fd.code)


def check_formulas(properties: dict) -> None:
    """Every formula of a form (deploy): references to deleted fields fail with GAIA_IL01."""
    form = Form(properties)
    for fd in form.all():
        if fd.props.get("expression") and fd.type in ("CALC", "SINGLE_LINE_TEXT"):
            check_expression(fd.props["expression"], form, fd.code)


def _check_mappings(form: Form, code: str, table: str | None, lookup: dict, prefix: str,
                    problems: Problems) -> None:
    for i, mapping in enumerate(lookup["fieldMappings"]):
        target = form.get(mapping["field"])
        # Copy targets sit beside the key field: top level, or the key's own subtable.
        if target is None or target.code == code or target.table != table or \
                target.type in SYSTEM_TYPES | FEATURE_TYPES | {"SUBTABLE", "GROUP"}:
            problems.add(f"{prefix}.lookup.fieldMappings[{i}].field", "unknown_field",
                         mapping["field"])


def _prefix(code: str, table: str | None) -> str:
    return f"properties[{table}].fields[{code}]" if table else f"properties[{code}]"
