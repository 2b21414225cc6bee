"""The other app settings the administration API writes: layout, views, app settings, process.

Each ``*_update`` function validates one request body against the current preview settings and
returns the new value in the shape the matching GET returns (numbers as strings). Problems are
collected into one CB_VA01; keys follow the request's structure (``layout[0].fields[1].code``,
``views.Open.type``, ``states.Done.index``, ``actions[0].from``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import KintoneError, Problems
from .fields import FEATURE_TYPES, SYSTEM_TYPES, Form
from .form_admin import as_bool, as_list, as_text

# ---------------------------------------------------------------------------------------------
# Layout

DEFAULT_WIDTH = "193"
_TALL_TYPES = frozenset({"MULTI_LINE_TEXT", "RICH_TEXT"})
_DECORATIONS = frozenset({"LABEL", "SPACER", "HR"})
_SIZE_KEYS = ("width", "height", "innerHeight")


def layout_element(prop: dict) -> dict:
    """Where a newly added field goes: its own row at the bottom of the form, as in Kintone."""
    if prop["type"] == "SUBTABLE":
        return {"type": "SUBTABLE", "code": prop["code"],
                "fields": [_field_cell(inner) for inner in prop["fields"].values()]}
    if prop["type"] == "GROUP":
        return {"type": "GROUP", "code": prop["code"], "layout": []}
    return {"type": "ROW", "fields": [_field_cell(prop)]}


def _field_cell(prop: dict) -> dict:
    if prop["type"] == "REFERENCE_TABLE":
        return {"type": "REFERENCE_TABLE", "code": prop["code"]}
    size = {"width": DEFAULT_WIDTH}
    if prop["type"] in _TALL_TYPES:
        size["innerHeight"] = "125"
    return {"type": prop["type"], "code": prop["code"], "size": size}


def edit_layout(layout: list, properties: dict, renamed: dict[str, str]) -> list:
    """The layout after a fields change: renamed codes follow, deleted fields leave, and
    fields added to an existing subtable join its element."""
    form = Form(properties)
    out = []
    for row in copy.deepcopy(layout):
        if "code" in row:
            row["code"] = renamed.get(row["code"], row["code"])
            if row["code"] not in form:
                continue
        if row["type"] == "GROUP":
            row["layout"] = edit_layout(row.get("layout", []), properties, renamed)
            out.append(row)
            continue
        cells = [_renamed_cell(cell, renamed) for cell in row.get("fields", [])]
        row["fields"] = [cell for cell in cells if cell["type"] in _DECORATIONS
                         or cell.get("code") in form]
        if row["type"] == "SUBTABLE":
            placed = {cell.get("code") for cell in row["fields"]}
            row["fields"] += [_field_cell(fd.props) for fd in form.inner(row["code"])
                              if fd.code not in placed]
        if row["type"] != "ROW" or row["fields"]:
            out.append(row)
    return out


def _renamed_cell(cell: dict, renamed: dict[str, str]) -> dict:
    if cell["type"] not in _DECORATIONS and "code" in cell:
        cell["code"] = renamed.get(cell["code"], cell["code"])
    return cell


@dataclass
class _LayoutCheck:
    form: Form
    problems: Problems
    placed: set[str]

    def rows(self, rows: Any, key: str, *, in_group: bool = False) -> list[dict]:
        if not isinstance(rows, list):
            raise KintoneError("CB_IJ01")
        return [self.row(row, f"{key}[{i}]", in_group) for i, row in enumerate(rows)]

    def row(self, row: Any, key: str, in_group: bool) -> dict:
        if not isinstance(row, dict):
            raise KintoneError("CB_IJ01")
        rtype = row.get("type")
        allowed = ("ROW",) if in_group else ("ROW", "SUBTABLE", "GROUP")
        if rtype not in allowed:
            self.problems.add(f"{key}.type", "enum")
            return {"type": as_text(rtype), "fields": []}
        if rtype == "ROW":
            return {"type": "ROW", "fields": self.cells(row.get("fields"), f"{key}.fields", None)}
        code = self.container(row, rtype, key)
        if rtype == "SUBTABLE":
            return {"type": "SUBTABLE", "code": code,
                    "fields": self.cells(row.get("fields"), f"{key}.fields", code)}
        return {"type": "GROUP", "code": code,
                "layout": self.rows(row.get("layout") or [], f"{key}.layout", in_group=True)}

    def container(self, row: dict, rtype: str, key: str) -> str:
        code = as_text(row.get("code"))
        fd = self.form.get(code)
        if fd is None or fd.type != rtype or fd.table is not None:
            self.problems.add(f"{key}.code", "unknown_field", code)
        else:
            self.place(code, f"{key}.code")
        return code

    def cells(self, cells: Any, key: str, table: str | None) -> list[dict]:
        if cells is None:
            cells = []
        if not isinstance(cells, list):
            raise KintoneError("CB_IJ01")
        return [self.cell(cell, f"{key}[{i}]", table) for i, cell in enumerate(cells)]

    def cell(self, cell: Any, key: str, table: str | None) -> dict:
        if not isinstance(cell, dict):
            raise KintoneError("CB_IJ01")
        ctype = as_text(cell.get("type"))
        size = _size(cell.get("size"), key, self.problems)
        if ctype in _DECORATIONS and table is None:
            return _decoration(ctype, cell, size)
        code = as_text(cell.get("code"))
        fd = self.form.get(code)
        if fd is None or fd.type != ctype or fd.table != table or fd.type in ("SUBTABLE", "GROUP"):
            self.problems.add(f"{key}.code", "unknown_field", code)
        else:
            self.place(code, f"{key}.code")
        if ctype == "REFERENCE_TABLE":
            return {"type": ctype, "code": code}
        return {"type": ctype, "code": code, "size": size}

    def place(self, code: str, key: str) -> None:
        if code in self.placed:
            self.problems.add(key, "layout_duplicate", code)
        self.placed.add(code)


def _decoration(ctype: str, cell: dict, size: dict) -> dict:
    if ctype == "LABEL":
        return {"type": ctype, "label": as_text(cell.get("label", "")), "elementId": "",
                "size": size}
    return {"type": ctype, "elementId": as_text(cell.get("elementId", "")) if ctype == "SPACER"
            else "", "size": size}


def _size(raw: Any, key: str, problems: Problems) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise KintoneError("CB_IJ01")
    size = {}
    for name in _SIZE_KEYS:
        if name in raw:
            text = as_text(raw[name]).strip()
            if not text.isdigit():
                problems.add(f"{key}.size.{name}", "not_integer")
            size[name] = text
    return size


def layout_update(layout: Any, properties: dict, lang: str) -> list[dict]:
    """PUT layout: every field of the form must be placed exactly once (system fields may)."""
    if layout is None:
        _require("layout", lang)
    form = Form(properties)
    problems = Problems(lang)
    check = _LayoutCheck(form, problems, set())
    rows = check.rows(layout, "layout")
    for fd in form.all():
        optional = fd.type in SYSTEM_TYPES | FEATURE_TYPES
        if not optional and fd.code not in check.placed:
            problems.add("layout", "layout_missing", fd.code)
    problems.raise_if_any()
    return rows


# ---------------------------------------------------------------------------------------------
# Views

VIEW_TYPES = ("LIST", "CALENDAR", "CUSTOM")
CALENDAR_DATE_TYPES = frozenset({"DATE", "DATETIME", "CREATED_TIME", "UPDATED_TIME"})
ASSIGNEE_VIEW = {"en": "Assigned to me", "ja": "作業者が自分"}


def views_update(raw: Any, current: dict, form: Form, lang: str,
                 check_query: Callable[[str], None],
                 new_id: Callable[[], int]) -> dict:
    """PUT views: the new ``views``. Views keep their id by name; ``check_query(text)``
    validates filter conditions and sorts; the built-in assignee view cannot be removed."""
    if raw is None:
        _require("views", lang)
    if not isinstance(raw, dict):
        raise KintoneError("CB_IJ01")
    for name, view in current.items():
        if view.get("builtinType") and name not in raw:
            raise KintoneError("GAIA_IL44")
    problems = Problems(lang)
    views = {}
    for name, view in raw.items():
        key = f"views.{name}"
        if not isinstance(view, dict):
            raise KintoneError("CB_IJ01")
        if as_text(view.get("name", name)) != name:
            problems.add(f"{key}.name", "name_mismatch")
        known = current.get(name, {})
        out = _view(view, known, key, form, problems)
        out["id"] = known.get("id") or str(new_id())
        views[name] = out
    problems.raise_if_any()
    for view in views.values():
        query = view["filterCond"] + (f" order by {view['sort']}" if view["sort"] else "")
        check_query(query)
    return views


def _view(view: dict, known: dict, key: str, form: Form, problems: Problems) -> dict:
    vtype = view.get("type", known.get("type"))
    if vtype not in VIEW_TYPES:
        problems.add(f"{key}.type", "enum")
    index = as_text(view.get("index", "")).strip()
    if not index.isdigit():
        problems.add(f"{key}.index", "not_integer")
    out: dict[str, Any] = {"type": vtype, "name": key.split(".", 1)[1], "id": "",
                           "index": str(int(index)) if index.isdigit() else index}
    if known.get("builtinType"):
        out["builtinType"] = known["builtinType"]
    if vtype == "LIST":
        out["fields"] = [as_text(code) for code in as_list(view.get("fields"))]
        for i, code in enumerate(out["fields"]):
            if code not in form:
                problems.add(f"{key}.fields[{i}]", "unknown_field", code)
    elif vtype == "CALENDAR":
        out["date"] = as_text(view.get("date", ""))
        out["title"] = as_text(view.get("title", ""))
        date = form.get(out["date"])
        if date is None or date.type not in CALENDAR_DATE_TYPES:
            problems.add(f"{key}.date", "unknown_field", out["date"])
        if form.get(out["title"]) is None:
            problems.add(f"{key}.title", "unknown_field", out["title"])
    elif vtype == "CUSTOM":
        out["html"] = as_text(view.get("html", ""))
        out["pager"] = as_bool(view.get("pager", True))
        out["device"] = as_text(view.get("device", "DESKTOP"))
        if out["device"] not in ("DESKTOP", "ANY"):
            problems.add(f"{key}.device", "enum")
    out["filterCond"] = as_text(view.get("filterCond", ""))
    out["sort"] = as_text(view.get("sort", ""))
    return out


def assignee_view(views: dict, lang: str, new_id: Callable[[], int]) -> dict:
    """Views with the built-in "assigned to me" list that process management adds."""
    if any(v.get("builtinType") == "ASSIGNEE" for v in views.values()):
        return views
    name = ASSIGNEE_VIEW.get(lang, ASSIGNEE_VIEW["en"])
    view = {"type": "LIST", "builtinType": "ASSIGNEE", "name": name, "id": str(new_id()),
            "index": str(len(views)), "fields": [], "filterCond": "", "sort": ""}
    return {**views, name: view}


def without_assignee_view(views: dict) -> dict:
    return {n: v for n, v in views.items() if v.get("builtinType") != "ASSIGNEE"}


def edit_views(views: dict, properties: dict, renamed: dict[str, str]) -> dict:
    """Views after a fields change: listed columns follow renames and drop deleted fields."""
    form = Form(properties)
    out = copy.deepcopy(views)
    for view in out.values():
        if "fields" in view:
            codes = [renamed.get(code, code) for code in view["fields"]]
            view["fields"] = [code for code in codes if code in form]
        for name in ("date", "title"):
            if name in view:
                view[name] = renamed.get(view[name], view[name])
    return out


# ---------------------------------------------------------------------------------------------
# App settings

THEMES = ("WHITE", "RED", "GREEN", "BLUE", "YELLOW", "BLACK", "CLIPBOARD", "BINDER", "PENCIL",
          "CLIPS")
ROUNDING_MODES = ("HALF_EVEN", "UP", "DOWN")
SETTING_FLAGS = ("enableThumbnails", "enableBulkDeletion", "enableComments",
                 "enableDuplicateRecord", "enableInlineRecordEditing")
MAX_NAME = 64
MAX_DESCRIPTION = 10000


def settings_update(raw: dict, current: dict, form: Form, lang: str) -> dict:
    """PUT settings: the given settings over the current ones (omitted settings stay)."""
    problems = Problems(lang)
    out = copy.deepcopy(current)
    if "name" in raw:
        out["name"] = as_text(raw["name"])
        if not 1 <= len(out["name"]) <= MAX_NAME:
            problems.add("name", "length_range", 1, MAX_NAME)
    if "description" in raw:
        out["description"] = as_text(raw["description"])
        if len(out["description"]) > MAX_DESCRIPTION:
            problems.add("description", "length_range", 0, MAX_DESCRIPTION)
    if "icon" in raw:
        out["icon"] = _icon(raw["icon"], problems)
    if "theme" in raw:
        out["theme"] = _enum(raw["theme"], THEMES, "theme", problems)
    for flag in SETTING_FLAGS:
        if flag in raw:
            out[flag] = as_bool(raw[flag])
    if "titleField" in raw:
        out["titleField"] = _title_field(raw["titleField"], form, problems)
    if "numberPrecision" in raw:
        out["numberPrecision"] = _precision(raw["numberPrecision"], out["numberPrecision"],
                                            problems)
    if "firstMonthOfFiscalYear" in raw:
        out["firstMonthOfFiscalYear"] = _bounded(raw["firstMonthOfFiscalYear"], 1, 12,
                                                 "firstMonthOfFiscalYear", problems)
    problems.raise_if_any()
    return out


def _icon(raw: Any, problems: Problems) -> dict:
    if not isinstance(raw, dict):
        raise KintoneError("CB_IJ01")
    if raw.get("type") == "PRESET" and raw.get("key"):
        return {"type": "PRESET", "key": as_text(raw["key"])}
    if raw.get("type") == "FILE" and isinstance(raw.get("file"), dict):
        return {"type": "FILE", "file": copy.deepcopy(raw["file"])}
    problems.add("icon", "invalid_value")
    return {}


def _title_field(raw: Any, form: Form, problems: Problems) -> dict:
    if not isinstance(raw, dict):
        raise KintoneError("CB_IJ01")
    mode = _enum(raw.get("selectionMode", "AUTO"), ("AUTO", "MANUAL"),
                 "titleField.selectionMode", problems)
    code = as_text(raw.get("code", "")) if mode == "MANUAL" else ""
    fd = form.get(code)
    if mode == "MANUAL" and (fd is None or fd.table is not None):
        problems.add("titleField.code", "unknown_field", code)
    return {"selectionMode": mode, "code": code}


def _precision(raw: Any, current: dict, problems: Problems) -> dict:
    if not isinstance(raw, dict):
        raise KintoneError("CB_IJ01")
    out = dict(current)
    if "digits" in raw:
        out["digits"] = _bounded(raw["digits"], 1, 30, "numberPrecision.digits", problems)
    if "decimalPlaces" in raw:
        out["decimalPlaces"] = _bounded(raw["decimalPlaces"], 0, 10,
                                        "numberPrecision.decimalPlaces", problems)
    if "roundingMode" in raw:
        out["roundingMode"] = _enum(raw["roundingMode"], ROUNDING_MODES,
                                    "numberPrecision.roundingMode", problems)
    digits, places = out["digits"], out["decimalPlaces"]
    if digits.isdigit() and places.isdigit() and int(places) > int(digits):
        problems.add("numberPrecision.decimalPlaces", "max_le", digits)
    return out


# ---------------------------------------------------------------------------------------------
# Process management

ASSIGNEE_TYPES = ("ONE", "ALL", "ANY")
ACTION_TYPES = ("PRIMARY", "SECONDARY")
PROCESS_ENTITY_TYPES = ("USER", "GROUP", "ORGANIZATION", "FIELD_ENTITY", "CUSTOM_FIELD",
                        "CREATOR")
FIELD_ENTITY_TYPES = frozenset({"USER_SELECT", "ORGANIZATION_SELECT", "GROUP_SELECT", "CREATOR",
                                "MODIFIER"})
# The process Kintone proposes when management is first enabled without states.
DEFAULT_PROCESS = {
    "en": (("Not started", "In progress", "Completed"), ("Start", "Complete")),
    "ja": (("未処理", "処理中", "完了"), ("処理開始", "完了する")),
}


def default_process(lang: str) -> tuple[dict, list]:
    names, actions = DEFAULT_PROCESS.get(lang, DEFAULT_PROCESS["en"])
    states = {name: {"name": name, "index": str(i), "assignee": {"type": "ONE", "entities": []}}
              for i, name in enumerate(names)}
    steps = [{"name": action, "from": names[i], "to": names[i + 1], "filterCond": "",
              "type": "PRIMARY"} for i, action in enumerate(actions)]
    return states, steps


def status_update(raw: dict, current: dict, form: Form, lang: str) -> dict:
    """PUT status: ``enable``, ``states`` and ``actions`` (each replaced when given)."""
    problems = Problems(lang)
    enable = as_bool(raw["enable"]) if "enable" in raw else bool(current.get("enable"))
    states = current.get("states")
    if raw.get("states") is not None:
        states = _states(raw["states"], form, problems)
    actions = current.get("actions")
    if raw.get("actions") is not None:
        actions = _actions(raw["actions"], form, problems)
    if enable and not states:
        states, default_actions = default_process(lang)
        actions = actions or default_actions
    for i, action in enumerate(actions or []):
        for end in ("from", "to"):
            if action[end] not in (states or {}):
                problems.add(f"actions[{i}].{end}", "unknown_state", action[end])
    problems.raise_if_any()
    return {"enable": enable, "states": states, "actions": actions}


def _states(raw: Any, form: Form, problems: Problems) -> dict:
    if not isinstance(raw, dict):
        raise KintoneError("CB_IJ01")
    states, indexes = {}, set()
    for name, state in raw.items():
        key = f"states.{name}"
        if not isinstance(state, dict):
            raise KintoneError("CB_IJ01")
        if as_text(state.get("name", name)) != name or not name:
            problems.add(f"{key}.name", "name_mismatch")
        index = as_text(state.get("index", "")).strip()
        if not index.isdigit() or int(index) in indexes:
            problems.add(f"{key}.index", "not_integer" if not index.isdigit() else "invalid_value")
        else:
            indexes.add(int(index))
        assignee = state.get("assignee")
        if assignee is None:
            assignee = _creator_assignee(form)
        if not isinstance(assignee, dict):
            raise KintoneError("CB_IJ01")
        states[name] = {
            "name": name,
            "index": str(int(index)) if index.isdigit() else index,
            "assignee": {
                "type": _enum(assignee.get("type", "ONE"), ASSIGNEE_TYPES,
                              f"{key}.assignee.type", problems),
                "entities": _process_entities(assignee.get("entities"), form,
                                              f"{key}.assignee.entities", problems),
            },
        }
    ordered = dict(sorted(states.items(), key=lambda item: _index_key(item[1]["index"])))
    if ordered:
        _check_first_state(next(iter(ordered.values())), problems)
    return ordered


def _creator_assignee(form: Form) -> dict:
    """What Kintone gives a state sent without ``assignee``: the record's creator, to be chosen
    (one user), by the app's CREATOR field (``作成者``, ``Created_by`` ...)."""
    creator = form.of_type("CREATOR")
    entities = [] if creator is None else [
        {"entity": {"type": "FIELD_ENTITY", "code": creator.code}, "includeSubs": False}]
    return {"type": "ONE", "entities": entities}


def _check_first_state(state: dict, problems: Problems) -> None:
    """A record starts in the first state, created by one user: Kintone refuses to give that
    state several assignees (``ALL``, ``ANY``) or the ``CREATOR`` entity."""
    key = f"states.{state['name']}.assignee"
    if state["assignee"]["type"] != "ONE":
        problems.add(f"{key}.type", "first_state_type")
    for i, item in enumerate(state["assignee"]["entities"]):
        if item["entity"]["type"] == "CREATOR":
            problems.add(f"{key}.entities[{i}].entity.type", "first_state_entity")


def _actions(raw: Any, form: Form, problems: Problems) -> list[dict]:
    if not isinstance(raw, list):
        raise KintoneError("CB_IJ01")
    actions = []
    for i, action in enumerate(raw):
        key = f"actions[{i}]"
        if not isinstance(action, dict):
            raise KintoneError("CB_IJ01")
        if not action.get("name"):
            problems.add(f"{key}.name", "required_param")
        out = {
            "name": as_text(action.get("name")),
            "from": as_text(action.get("from")),
            "to": as_text(action.get("to")),
            "filterCond": as_text(action.get("filterCond", "")),
            "type": _enum(action.get("type", "PRIMARY"), ACTION_TYPES, f"{key}.type", problems),
        }
        executable = action.get("executableUser")
        if executable is not None:
            if not isinstance(executable, dict):
                raise KintoneError("CB_IJ01")
            out["executableUser"] = {"entities": _process_entities(
                executable.get("entities"), form, f"{key}.executableUser.entities", problems)}
        actions.append(out)
    return actions


def _process_entities(raw: Any, form: Form, key: str, problems: Problems) -> list[dict]:
    out = []
    for i, item in enumerate(as_list(raw)):
        if not isinstance(item, dict) or not isinstance(item.get("entity"), dict):
            raise KintoneError("CB_IJ01")
        entity = item["entity"]
        etype = _enum(entity.get("type"), PROCESS_ENTITY_TYPES, f"{key}[{i}].entity.type",
                      problems)
        code = None if etype == "CREATOR" else as_text(entity.get("code"))
        if etype == "FIELD_ENTITY":
            fd = form.get(code or "")
            if fd is None or fd.type not in FIELD_ENTITY_TYPES or fd.table is not None:
                problems.add(f"{key}[{i}].entity.code", "unknown_field", code)
        out.append({"entity": {"type": etype, "code": code},
                    "includeSubs": as_bool(item.get("includeSubs", False))})
    return out


def _index_key(index: str) -> int:
    return int(index) if index.isdigit() else 0


# ---------------------------------------------------------------------------------------------
# Small shared checks


def _require(name: str, lang: str) -> None:
    problems = Problems(lang)
    problems.add(name, "required_param")
    problems.raise_if_any()


def _enum(value: Any, allowed: tuple[str, ...], key: str, problems: Problems) -> str:
    text = as_text(value)
    if text not in allowed:
        problems.add(key, "enum")
    return text


def _bounded(value: Any, low: int, high: int, key: str, problems: Problems) -> str:
    text = as_text(value).strip()
    if not text.isdigit():
        problems.add(key, "not_integer")
        return text
    if int(text) < low:
        problems.add(key, "min_zero" if low == 0 else "min_one")
    elif int(text) > high:
        problems.add(key, "max_le", high)
    return str(int(text))

