"""Field types and an app's form (its field properties) as the rest of the sandbox sees them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

SYSTEM_TYPES = frozenset(
    {"RECORD_NUMBER", "CREATOR", "CREATED_TIME", "MODIFIER", "UPDATED_TIME"}
)
FEATURE_TYPES = frozenset({"STATUS", "STATUS_ASSIGNEE", "CATEGORY"})
LAYOUT_ONLY_TYPES = frozenset({"LABEL", "SPACER", "HR", "GROUP", "REFERENCE_TABLE"})
OPTION_TYPES = frozenset({"CHECK_BOX", "RADIO_BUTTON", "DROP_DOWN", "MULTI_SELECT"})
USER_TYPES = frozenset(
    {
        "SINGLE_LINE_TEXT", "MULTI_LINE_TEXT", "RICH_TEXT", "NUMBER", "CALC", "CHECK_BOX",
        "RADIO_BUTTON", "DROP_DOWN", "MULTI_SELECT", "FILE", "LINK", "DATE", "TIME", "DATETIME",
        "USER_SELECT", "ORGANIZATION_SELECT", "GROUP_SELECT", "SUBTABLE", "REFERENCE_TABLE",
        "GROUP", "LABEL", "SPACER", "HR",
    }
)
SUBTABLE_INNER_TYPES = frozenset(
    {
        "SINGLE_LINE_TEXT", "NUMBER", "CALC", "MULTI_LINE_TEXT", "RICH_TEXT", "LINK", "CHECK_BOX",
        "RADIO_BUTTON", "DROP_DOWN", "MULTI_SELECT", "FILE", "DATE", "TIME", "DATETIME",
        "USER_SELECT", "ORGANIZATION_SELECT", "GROUP_SELECT",
    }
)
# Fields whose values live in record data (everything but layout-only elements).
DATA_TYPES = (USER_TYPES - LAYOUT_ONLY_TYPES) | SYSTEM_TYPES | FEATURE_TYPES

# Internal type names real Kintone quotes in GAIA_UN10 messages.
UN10_NAMES = {
    "RECORD_NUMBER": "RECORD_ID",
    "CREATOR": "CREATOR",
    "CREATED_TIME": "CREATED_AT",
    "MODIFIER": "MODIFIER",
    "UPDATED_TIME": "MODIFIED_AT",
    "STATUS": "STATUS",
    "STATUS_ASSIGNEE": "STATUS_ASSIGNEE",
    "GROUP": "GROUP",
}

# System fields every app has, with their codes per tenant language.
SYSTEM_FIELD_CODES = {
    "en": {
        "RECORD_NUMBER": ("Record_number", "Record number"),
        "CREATOR": ("Created_by", "Created by"),
        "CREATED_TIME": ("Created_datetime", "Created datetime"),
        "MODIFIER": ("Updated_by", "Updated by"),
        "UPDATED_TIME": ("Updated_datetime", "Updated datetime"),
        "STATUS": ("Status", "Status"),
        "STATUS_ASSIGNEE": ("Assignee", "Assignee"),
        "CATEGORY": ("Categories", "Categories"),
    },
    "ja": {
        "RECORD_NUMBER": ("レコード番号", "レコード番号"),
        "CREATOR": ("作成者", "作成者"),
        "CREATED_TIME": ("作成日時", "作成日時"),
        "MODIFIER": ("更新者", "更新者"),
        "UPDATED_TIME": ("更新日時", "更新日時"),
        "STATUS": ("ステータス", "ステータス"),
        "STATUS_ASSIGNEE": ("作業者", "作業者"),
        "CATEGORY": ("カテゴリー", "カテゴリー"),
    },
}


def system_properties(lang: str = "en") -> dict[str, dict]:
    """The properties of the system fields a new app starts with."""
    props: dict[str, dict] = {}
    for ftype, (code, label) in SYSTEM_FIELD_CODES[lang].items():
        prop = {"type": ftype, "code": code, "label": label}
        if ftype in FEATURE_TYPES:
            prop["enabled"] = False
        else:
            prop["noLabel"] = False
        props[code] = prop
    return props


NUMERIC_CALC_FORMATS = frozenset({"NUMBER", "NUMBER_DIGIT", "HOUR_MINUTE", "DAY_HOUR_MINUTE"})


def calc_format_is_numeric(prop: dict) -> bool:
    return prop.get("format", "NUMBER") in NUMERIC_CALC_FORMATS


@dataclass(frozen=True)
class FieldDef:
    """One field of a form; ``table`` is the subtable code for fields inside a subtable."""

    code: str
    type: str
    props: dict
    table: str | None = None

    @property
    def lookup(self) -> dict | None:
        return self.props.get("lookup") or None

    @property
    def options(self) -> dict:
        return self.props.get("options") or {}

    @property
    def numeric(self) -> bool:
        if self.type == "CALC":
            return calc_format_is_numeric(self.props)
        return self.type in ("NUMBER", "RECORD_NUMBER")


class Form:
    """An app's field properties (the ``properties`` of ``app/form/fields.json``)."""

    def __init__(self, properties: dict[str, dict]) -> None:
        self.properties = properties
        self._fields: dict[str, FieldDef] = {}
        for code, prop in properties.items():
            self._fields[code] = FieldDef(code, prop["type"], prop)
            if prop["type"] == "SUBTABLE":
                for inner_code, inner in prop.get("fields", {}).items():
                    self._fields[inner_code] = FieldDef(inner_code, inner["type"], inner, code)

    def get(self, code: str) -> FieldDef | None:
        return self._fields.get(code)

    def __contains__(self, code: str) -> bool:
        return code in self._fields

    def all(self) -> Iterator[FieldDef]:
        return iter(self._fields.values())

    def top_level(self) -> list[FieldDef]:
        return [f for f in self._fields.values() if f.table is None]

    def inner(self, table: str) -> list[FieldDef]:
        return [f for f in self._fields.values() if f.table == table]

    def of_type(self, ftype: str) -> FieldDef | None:
        return next((f for f in self._fields.values() if f.type == ftype), None)

    def data_fields(self) -> list[FieldDef]:
        """Top-level fields present in record data (feature fields only when enabled)."""
        out = []
        for fd in self.top_level():
            if fd.type not in DATA_TYPES or fd.type == "REFERENCE_TABLE":
                continue
            if fd.type in FEATURE_TYPES and not fd.props.get("enabled"):
                continue
            out.append(fd)
        return out

    def lookup_targets(self) -> set[str]:
        """Codes of fields filled by lookups (written by the server, ignored on write)."""
        targets: set[str] = set()
        for fd in self._fields.values():
            if fd.lookup:
                targets.update(m["field"] for m in fd.lookup.get("fieldMappings", []))
        return targets
