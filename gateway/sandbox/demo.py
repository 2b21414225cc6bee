"""Demo data: users, three apps (customers, orders, Japanese support tickets) and their records.

Everything is generated from a fixed random seed, so two demo sandboxes hold the same apps,
records, comments, API tokens and file contents (only file keys and the times of the process
actions differ). Apps are configured through the app administration API's handlers, and records
go through the same write path as ``POST records.json``
(``record_write.new_record_data`` then ``records.insert``) inside one transaction, which keeps
seeding fast while lookups, calculations, defaults and the query index behave as for API writes.
"""

from __future__ import annotations

import json
import random
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from . import app_admin, comments, files, process
from .api.registry import call, find
from .apps import load_app
from .clock import iso_minute, iso_second
from .context import Caller, Ctx
from .errors import Problems
from .fields import SYSTEM_FIELD_CODES
from .params import Params
from .record_write import new_record_data
from .records import fetch, insert
from .state import Sandbox

SEED = 20240501
DEMO_LOGIN = "demo"
DEMO_PASSWORD = "demo-password"
CUSTOMERS, ORDERS, SUPPORT = "CUSTOMERS", "ORDERS", "SUPPORT"
CUSTOMER_COUNT = 1200
ORDER_COUNT = 3000
TICKET_COUNT = 800
TOKEN_RIGHTS = ["view", "add", "edit", "delete"]
# Record dates lie in the two years before this day (fixed, so the data never changes).
ANCHOR = datetime(2025, 6, 30, 9, 0, tzinfo=UTC)

ORGANIZATIONS = {
    "sales": "Sales",
    "support": "Customer Support",
    "logistics": "Logistics",
    "management": "Management",
}
GROUPS = {"managers": "Managers", "tier2": "Tier 2 support"}
# login: (display name, organizations, groups); every password is "<login>-password".
USERS = {
    DEMO_LOGIN: ("Demo User", ["management"], ["managers"]),
    "sato": ("Hanako Sato", ["sales"], []),
    "suzuki": ("Ichiro Suzuki", ["sales"], []),
    "tanaka": ("Ken Tanaka", ["support"], ["tier2"]),
    "ito": ("Alice Ito", ["support"], []),
    "kobayashi": ("Mai Kobayashi", ["logistics"], []),
    "yamamoto": ("Taro Yamamoto", ["management"], ["managers"]),
}
SALES = ["sato", "suzuki"]
SUPPORT_STAFF = ["tanaka", "ito"]


@dataclass
class DemoInfo:
    login: str
    password: str
    users: dict[str, str]  # login -> password
    apps: dict[str, int]  # app code -> app id
    tokens: dict[int, str] = field(default_factory=dict)  # app id -> API token


def seed_demo(sandbox: Sandbox) -> DemoInfo:
    """Create the demo users and apps in ``sandbox`` (expected to have no apps yet)."""
    rng = random.Random(SEED)
    users = _add_directory(sandbox)
    ctx = Ctx(sandbox=sandbox, caller=Caller(user=sandbox.directory.user(DEMO_LOGIN)))
    apps: dict[str, int] = {}
    tokens: dict[int, str] = {}
    with sandbox.db.transaction() as conn:
        for spec in _app_specs():
            app_id = _create_app(ctx, spec, apps.get(CUSTOMERS))
            apps[spec.code] = app_id
            tokens[app_id] = _add_token(conn, app_id, rng)
        customers = _add_records(ctx, apps[CUSTOMERS], _customers(rng))
        orders = _add_records(ctx, apps[ORDERS], _orders(rng, customers))
        _advance_orders(sandbox, apps[ORDERS], orders, rng)
        tickets = _add_records(ctx, apps[SUPPORT], _tickets(ctx, rng, customers))
        _add_comments(ctx, apps[SUPPORT], tickets, rng)
    return DemoInfo(DEMO_LOGIN, DEMO_PASSWORD, users, apps, tokens)


def demo_info(sandbox: Sandbox) -> DemoInfo | None:
    """The demo's credentials in a sandbox seeded earlier (a reopened data file), else None."""
    conn = sandbox.db.conn
    with sandbox.db.lock:
        rows = conn.execute(
            "SELECT id, code FROM apps WHERE code IN (?, ?, ?)", (CUSTOMERS, ORDERS, SUPPORT)
        ).fetchall()
        if len(rows) != 3 or sandbox.directory.user(DEMO_LOGIN) is None:
            return None
        apps = {r["code"]: r["id"] for r in rows}
        tokens = {}
        for app_id in apps.values():
            row = conn.execute(
                "SELECT token FROM api_tokens WHERE app = ? ORDER BY rowid LIMIT 1", (app_id,)
            ).fetchone()
            if row:
                tokens[app_id] = row["token"]
    return DemoInfo(DEMO_LOGIN, DEMO_PASSWORD, _passwords(), apps, tokens)


def _passwords() -> dict[str, str]:
    return {login: f"{login}-password" for login in USERS}


def _add_directory(sandbox: Sandbox) -> dict[str, str]:
    directory = sandbox.directory
    for code, name in ORGANIZATIONS.items():
        directory.add_organization(code, name)
    for code, name in GROUPS.items():
        directory.add_group(code, name)
    passwords = _passwords()
    for login, (name, orgs, groups) in USERS.items():
        directory.add_user(login, passwords[login], name, organizations=orgs, groups=groups,
                           admin=login in (DEMO_LOGIN, "yamamoto"))
    return passwords


def _add_token(conn, app_id: int, rng: random.Random) -> str:
    token = "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(40))
    conn.execute(
        "INSERT INTO api_tokens (token, app, data) VALUES (?, ?, ?)",
        (token, app_id, json.dumps({"rights": TOKEN_RIGHTS})),
    )
    return token


# ---------------------------------------------------------------------------------------------
# Fields, as sent to POST preview/app/form/fields.json (Kintone completes the omitted settings)


def _field(ftype: str, code: str, label: str, **settings) -> dict:
    return {"type": ftype, "code": code, "label": label, **settings}


def _options(*keys: str) -> dict:
    return {key: {"label": key, "index": str(i)} for i, key in enumerate(keys)}


def _choice(ftype: str, code: str, label: str, keys: tuple[str, ...], **settings) -> dict:
    return _field(ftype, code, label, options=_options(*keys), **settings)


def _lookup(code: str, label: str, related_app: int, key: str, mappings: dict[str, str],
            pickers: list[str]) -> dict:
    """A SINGLE_LINE_TEXT lookup field keyed on a field of the customers app."""
    return {
        "type": "SINGLE_LINE_TEXT", "code": code, "label": label, "required": True,
        "lookup": {
            "relatedApp": {"app": str(related_app), "code": CUSTOMERS},
            "relatedKeyField": key,
            "fieldMappings": [{"field": f, "relatedField": r} for f, r in mappings.items()],
            "lookupPickerFields": pickers,
            "filterCond": "",
            "sort": "Record_number desc",
        },
    }


def _subtable(code: str, label: str, *inner: dict) -> dict:
    return _field("SUBTABLE", code, label, noLabel=True, fields=_by_code(*inner))


INDUSTRIES = ("Manufacturing", "Retail", "Finance", "Healthcare", "IT", "Logistics", "Education",
              "Public sector")
SIZES = ("Small", "Medium", "Large", "Enterprise")
INTERESTS = ("Analytics", "Automation", "Integration", "Mobile", "Security", "Training")
PRODUCTS = ("Starter plan", "Standard plan", "Premium plan", "Onboarding", "Training day",
            "Support pack")
CHANNELS = ("Web", "Phone", "Email", "Partner", "Store")
PRIORITIES = ("高", "中", "低")
KINDS = ("質問", "不具合", "要望")
PROGRESS = ("未対応", "対応中", "完了")


def _customer_fields() -> dict:
    return _by_code(
        _field("SINGLE_LINE_TEXT", "customer_code", "Customer code", required=True, unique=True,
               maxLength="16"),
        _field("SINGLE_LINE_TEXT", "company_name", "Company name", required=True),
        _choice("DROP_DOWN", "industry", "Industry", INDUSTRIES),
        _choice("RADIO_BUTTON", "size", "Company size", SIZES, defaultValue="Small"),
        _choice("CHECK_BOX", "interests", "Interests", INTERESTS),
        _field("USER_SELECT", "account_manager", "Account manager"),
        _field("NUMBER", "annual_revenue", "Annual revenue", digit=True, unit="JPY",
               unitPosition="AFTER", minValue="0"),
        _field("DATE", "customer_since", "Customer since"),
        _field("LINK", "website", "Website", protocol="WEB"),
        _field("MULTI_LINE_TEXT", "notes", "Notes"),
        _subtable(
            "contacts", "Contacts",
            _field("SINGLE_LINE_TEXT", "contact_name", "Name"),
            _field("LINK", "contact_email", "Email", protocol="MAIL"),
            _field("LINK", "contact_phone", "Phone", protocol="CALL"),
            _choice("CHECK_BOX", "primary_contact", "Primary", ("Primary",)),
        ),
    )


def _order_fields(customers_app: int) -> dict:
    return _by_code(
        _lookup("customer_code", "Customer code", customers_app, "customer_code",
                {"company_name": "company_name"}, ["customer_code", "company_name", "industry"]),
        _field("SINGLE_LINE_TEXT", "company_name", "Company name"),
        _choice("DROP_DOWN", "product", "Product", PRODUCTS, required=True),
        _field("DATE", "order_date", "Order date", required=True),
        _field("DATETIME", "delivery_time", "Delivery time"),
        _field("TIME", "delivery_slot", "Delivery slot"),
        _field("NUMBER", "quantity", "Quantity", required=True, minValue="1", defaultValue="1"),
        _field("NUMBER", "unit_price", "Unit price", digit=True, unit="JPY", unitPosition="AFTER"),
        _field("CALC", "total", "Total", expression="quantity * unit_price", format="NUMBER_DIGIT",
               unit="JPY", unitPosition="AFTER"),
        _choice("MULTI_SELECT", "channels", "Sales channels", CHANNELS),
        _field("ORGANIZATION_SELECT", "department", "Department"),
    )


def _ticket_fields(customers_app: int) -> dict:
    return _by_code(
        _field("SINGLE_LINE_TEXT", "件名", "件名", required=True),
        _field("MULTI_LINE_TEXT", "内容", "内容"),
        _choice("DROP_DOWN", "優先度", "優先度", PRIORITIES, defaultValue="中"),
        _choice("RADIO_BUTTON", "種別", "種別", KINDS, defaultValue="質問"),
        _choice("DROP_DOWN", "対応状況", "対応状況", PROGRESS, defaultValue="未対応"),
        _lookup("顧客コード", "顧客コード", customers_app, "customer_code",
                {"会社名": "company_name"}, ["customer_code", "company_name"]),
        _field("SINGLE_LINE_TEXT", "会社名", "会社名"),
        _field("USER_SELECT", "対応者", "対応者"),
        _field("GROUP_SELECT", "担当グループ", "担当グループ"),
        _field("DATETIME", "受付日時", "受付日時"),
        _field("RICH_TEXT", "回答", "回答"),
        _field("FILE", "添付ファイル", "添付ファイル"),
    )


def _by_code(*props: dict) -> dict:
    return {p["code"]: p for p in props}


def _state(name: str, index: int, entities: list[dict]) -> dict:
    return {"name": name, "index": str(index),
            "assignee": {"type": "ONE", "entities": [
                {"entity": e, "includeSubs": False} for e in entities]}}


def _order_process() -> dict:
    """New → Approved → Shipped → Closed, each step with its assignee."""
    states = [
        _state("New", 0, [{"type": "USER", "code": "yamamoto"}]),
        _state("Approved", 1, [{"type": "USER", "code": "kobayashi"}]),
        _state("Shipped", 2, [{"type": "FIELD_ENTITY", "code": "Created_by"}]),
        _state("Closed", 3, []),
    ]
    actions = [
        ("Approve", "New", "Approved"),
        ("Ship", "Approved", "Shipped"),
        ("Close", "Shipped", "Closed"),
        ("Send back", "Approved", "New"),
    ]
    return {
        "enable": True,
        "states": {s["name"]: s for s in states},
        "actions": [{"name": n, "from": f, "to": t, "filterCond": "",
                     "type": "SECONDARY" if n == "Send back" else "PRIMARY"}
                    for n, f, t in actions],
    }


@dataclass(frozen=True)
class AppSpec:
    code: str
    name: str
    lang: str  # language of the app's system field codes (those of its creator)
    description: str
    fields: Callable[[int], dict]  # properties, given the customers app id the lookups use
    views: dict
    process: dict | None = None


def _list_view(fields: list[str], filter_cond: str = "", sort: str = "") -> dict:
    return {"type": "LIST", "fields": fields, "filterCond": filter_cond, "sort": sort}


def _app_specs() -> Iterator[AppSpec]:
    yield AppSpec(
        CUSTOMERS, "Customers", "en", "<div>Our customers and their contacts.</div>",
        lambda _: _customer_fields(),
        {"Enterprise customers": _list_view(
            ["customer_code", "company_name", "industry", "annual_revenue"],
            'size in ("Enterprise")', "annual_revenue desc")},
    )
    yield AppSpec(
        ORDERS, "Orders", "en", "<div>Orders, approved, shipped and closed.</div>",
        _order_fields,
        {"Open orders": _list_view(
            ["Record_number", "customer_code", "company_name", "product", "total", "Status"],
            'Status not in ("Closed")', "order_date desc"),
         "Deliveries": {"type": "CALENDAR", "date": "order_date",
                        "title": "company_name", "filterCond": "", "sort": ""}},
        _order_process(),
    )
    yield AppSpec(
        SUPPORT, "サポート問い合わせ", "ja", "<div>お客様からの問い合わせ管理</div>",
        _ticket_fields,
        {"未対応の問い合わせ": _list_view(
            ["レコード番号", "件名", "優先度", "会社名", "対応者"],
            '対応状況 in ("未対応")', "受付日時 desc")},
    )


# ---------------------------------------------------------------------------------------------
# Apps


def _api(ctx: Ctx, method: str, api: str, params: dict) -> dict:
    """A Kintone API endpoint run in-process, with the validation an HTTP call gets."""
    return call(ctx, find(method, api), Params(params))


def _create_app(ctx: Ctx, spec: AppSpec, customers: int | None) -> int:
    # Created directly for its system field language; configured through the admin API.
    app_id = app_admin.create_app(ctx.db.conn, name=spec.name, creator=ctx.caller.entity,
                                  now=ctx.now(), lang=spec.lang)
    _api(ctx, "POST", "preview/app/form/fields",
         {"app": app_id, "properties": spec.fields(customers or app_id)})
    _api(ctx, "PUT", "preview/app/settings", {"app": app_id, "description": spec.description})
    if spec.process:
        _api(ctx, "PUT", "preview/app/status", {"app": app_id, **spec.process})
    # Keep the "assigned to me" view that enabling the process added.
    views = {**load_app(ctx.db.conn, app_id, preview=True).settings["views"], **spec.views}
    views = {name: {**view, "index": str(i)} for i, (name, view) in enumerate(views.items())}
    _api(ctx, "PUT", "preview/app/views", {"app": app_id, "views": views})
    app_admin.set_code(ctx.db.conn, app_id, spec.code)
    _api(ctx, "POST", "preview/app/deploy", {"apps": [{"app": app_id}]})
    return app_id


# ---------------------------------------------------------------------------------------------
# Records

Record = dict  # a write payload: {code: {"value": ...}}


def _add_records(ctx: Ctx, app_id: int, payloads: Iterator[Record]) -> list[tuple[int, Record]]:
    """Insert through the API's write path; returns ``(record id, payload)`` pairs."""
    app = load_app(ctx.db.conn, app_id)
    assert app is not None
    added = []
    for payload in payloads:
        problems = Problems(ctx.lang)
        data = new_record_data(ctx, app, payload, "record", problems)
        problems.raise_if_any()
        rec_id, _ = insert(ctx.db.conn, app, data)
        added.append((rec_id, payload))
    return added


def _v(value) -> dict:
    return {"value": value}


def _moment(rng: random.Random, days: int = 730) -> datetime:
    """A moment in the ``days`` before the anchor, on a whole minute in Japanese office hours."""
    day = ANCHOR - timedelta(days=rng.randrange(days))
    return day.replace(hour=rng.randrange(0, 9), minute=rng.randrange(60))


def _created(rng: random.Random, login: str, lang: str = "en") -> tuple[datetime, Record]:
    """Creator and times as a data migration writes them (admin only, on add only)."""
    moment = _moment(rng)
    codes = SYSTEM_FIELD_CODES[lang]
    user, stamp = _v({"code": login}), _v(iso_minute(moment))
    return moment, {codes["CREATOR"][0]: user, codes["CREATED_TIME"][0]: stamp,
                    codes["MODIFIER"][0]: user, codes["UPDATED_TIME"][0]: stamp}


_PREFIXES = ("Asahi", "Blue", "Cedar", "Delta", "Eastern", "Fuji", "Green", "Harbor", "Iris",
             "Jade", "Kita", "Lotus", "Maple", "North", "Ocean", "Pine", "Quartz", "River",
             "Sakura", "Tokai", "Union", "Vista", "West", "Yama", "Zen")
_CORES = ("Systems", "Foods", "Motors", "Logistics", "Pharma", "Textiles", "Robotics", "Media",
          "Energy", "Finance", "Retail", "Works", "Labs", "Trading", "Design", "Health")
_SUFFIXES = ("Co., Ltd.", "Inc.", "Corporation", "Holdings", "K.K.", "LLC")
_GIVEN = ("Aoi", "Daiki", "Emi", "Haruto", "Kaito", "Mei", "Ren", "Sakura", "Sota", "Yui",
          "Anna", "Ben", "Chloe", "David", "Eva", "Lucas", "Mia", "Noah", "Olivia", "Sam")
_FAMILY = ("Abe", "Endo", "Fujita", "Goto", "Hayashi", "Inoue", "Kato", "Mori", "Nakamura",
           "Ogawa", "Saito", "Takahashi", "Ueda", "Watanabe", "Brown", "Garcia", "Miller",
           "Smith", "Wilson", "Lee")


def customer_code(n: int) -> str:
    return f"C-{n:05d}"


def _company(n: int, rng: random.Random) -> str:
    return f"{rng.choice(_PREFIXES)} {rng.choice(_CORES)} {rng.choice(_SUFFIXES)} #{n}"


def _customers(rng: random.Random) -> Iterator[Record]:
    for n in range(1, CUSTOMER_COUNT + 1):
        company = _company(n, rng)
        slug = company.split()[0].lower() + str(n)
        _, created = _created(rng, rng.choice(SALES))
        yield {
            **created,
            "customer_code": _v(customer_code(n)),
            "company_name": _v(company),
            "industry": _v(rng.choice(INDUSTRIES)),
            "size": _v(rng.choices(SIZES, weights=(5, 4, 2, 1))[0]),
            "interests": _v(rng.sample(INTERESTS, rng.randrange(0, 4))),
            "account_manager": _v([{"code": rng.choice(SALES)}]),
            "annual_revenue": _v(str(rng.randrange(10, 50_000) * 100_000)),
            "customer_since": _v((ANCHOR.date() - timedelta(days=rng.randrange(3650))).isoformat()),
            "website": _v(f"https://www.{slug}.example.com"),
            "notes": _v(_notes(rng)),
            "contacts": _v([_contact(slug, i == 0, rng) for i in range(rng.randrange(1, 4))]),
        }


def _notes(rng: random.Random) -> str:
    lines = ["Renewal due next quarter.", "Prefers email contact.", "Met at the Tokyo expo.",
             "Asked for a volume discount.", "Reference customer.", "Pilot project running."]
    return "\n".join(rng.sample(lines, rng.randrange(0, 3)))


def _contact(slug: str, primary: bool, rng: random.Random) -> Record:
    given, family = rng.choice(_GIVEN), rng.choice(_FAMILY)
    return {"value": {
        "contact_name": _v(f"{given} {family}"),
        "contact_email": _v(f"{given}.{family}@{slug}.example.com".lower()),
        "contact_phone": _v(f"03-{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}"),
        "primary_contact": _v(["Primary"] if primary else []),
    }}


def _orders(rng: random.Random, customers: list[tuple[int, Record]]) -> Iterator[Record]:
    codes = [payload["customer_code"]["value"] for _, payload in customers]
    prices = dict(zip(PRODUCTS, (30_000, 80_000, 150_000, 200_000, 120_000, 50_000), strict=True))
    for _ in range(ORDER_COUNT):
        product = rng.choice(PRODUCTS)
        created_at, created = _created(rng, rng.choice(SALES))
        delivery = created_at + timedelta(days=rng.randrange(3, 30), hours=rng.randrange(0, 8))
        yield {
            **created,
            "customer_code": _v(rng.choice(codes)),
            "product": _v(product),
            "order_date": _v(created_at.date().isoformat()),
            "delivery_time": _v(iso_minute(delivery) if rng.random() < 0.8 else ""),
            "delivery_slot": _v(rng.choice(("09:00", "13:00", "15:30", "18:00"))),
            "quantity": _v(str(rng.randrange(1, 50))),
            "unit_price": _v(str(prices[product])),
            "channels": _v(rng.sample(CHANNELS, rng.randrange(1, 3))),
            "department": _v([{"code": rng.choice(("sales", "logistics"))}]),
        }


# The action that leaves each state, and who is assigned to it (see _order_process).
_NEXT_ACTION = {"New": "Approve", "Approved": "Ship", "Shipped": "Close"}


def _advance_orders(sandbox: Sandbox, app_id: int, orders: list[tuple[int, Record]],
                    rng: random.Random) -> None:
    """Move orders along the process as their assignees would: older orders got further."""
    app = load_app(sandbox.db.conn, app_id)
    for rec_id, payload in orders:
        age = (ANCHOR.date() - date.fromisoformat(payload["order_date"]["value"])).days
        steps = min(3, rng.randrange(0, 2 + age // 60))
        for _ in range(steps):
            _, data = fetch(sandbox.db.conn, app_id, rec_id)
            actor = data["Assignee"][0]["code"]
            ctx = Ctx(sandbox=sandbox, caller=Caller(user=sandbox.directory.user(actor)))
            process.run_action(ctx, app, rec_id, _NEXT_ACTION[data["Status"]], None, None)


_SUBJECTS = ("ログインできません", "請求書の再発行をお願いします", "CSV出力が文字化けします",
             "APIの利用制限について", "新機能の要望", "パスワードの再設定", "画面が遅い",
             "ユーザー追加の方法", "データの一括削除について", "契約プランの変更")
_BODIES = ("昨日から発生しています。至急確認をお願いします。",
           "手順を教えてください。",
           "スクリーンショットを添付します。",
           "社内の複数のユーザーで同じ現象が起きています。",
           "急ぎではありませんが、ご検討ください。")


def _tickets(ctx: Ctx, rng: random.Random, customers: list[tuple[int, Record]]) -> Iterator[Record]:
    codes = [payload["customer_code"]["value"] for _, payload in customers]
    for n in range(TICKET_COUNT):
        created_at, created = _created(rng, rng.choice(SUPPORT_STAFF), "ja")
        record = {
            **created,
            "件名": _v(rng.choice(_SUBJECTS)),
            "内容": _v("\n".join(rng.sample(_BODIES, 2))),
            "優先度": _v(rng.choices(PRIORITIES, weights=(1, 3, 2))[0]),
            "種別": _v(rng.choice(KINDS)),
            "対応状況": _v(rng.choice(PROGRESS)),
            "顧客コード": _v(rng.choice(codes)),
            "対応者": _v([{"code": rng.choice(SUPPORT_STAFF)}]),
            "担当グループ": _v([{"code": "tier2"}] if rng.random() < 0.3 else []),
            "受付日時": _v(iso_minute(created_at)),
            "回答": _v("<div>ご連絡ありがとうございます。</div>" if rng.random() < 0.5 else ""),
        }
        if n % 10 == 0:
            record["添付ファイル"] = _v([{"fileKey": key} for key in _attachments(ctx, n)])
        yield record


# ---------------------------------------------------------------------------------------------
# Files and comments


def _attachments(ctx: Ctx, n: int) -> list[str]:
    """Upload keys of a generated log file and, on every other ticket, a small PNG."""
    keys = [_upload(ctx, f"log-{n}.txt", "text/plain",
                    f"ticket {n}\nエラー: 接続がタイムアウトしました\n".encode())]
    if n % 20 == 0:
        keys.append(_upload(ctx, f"screenshot-{n}.png", "image/png", png(8, 8, (n % 256, 80, 160))))
    return keys


def _upload(ctx: Ctx, name: str, content_type: str, content: bytes) -> str:
    """A temporary upload key, as ``POST file.json`` returns; attaching it makes a download key."""
    return files.store_upload(ctx.db.conn, name, content_type, content, ctx.now())


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A valid single-colour PNG image."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))


_COMMENTS = ("確認しました。", "お客様に折り返し連絡済みです。", "再現手順を共有します。",
             "本件、対応完了です。", "追加情報をお願いします。")
_MENTIONABLE = [("tanaka", "USER"), ("ito", "USER"), ("support", "ORGANIZATION"),
                ("tier2", "GROUP")]


def _add_comments(ctx: Ctx, app_id: int, tickets: list[tuple[int, Record]],
                  rng: random.Random) -> None:
    """1–4 comments on about 60 % of the tickets, a quarter of them with mentions."""
    conn = ctx.db.conn
    for rec_id, _ in tickets:
        if rng.random() >= 0.6:
            continue
        moment = _moment(rng)
        for _ in range(rng.randrange(1, 5)):
            picked = rng.sample(_MENTIONABLE, rng.randrange(1, 3)) if rng.random() < 0.25 else []
            author = rng.choice(SUPPORT_STAFF)
            moment += timedelta(hours=rng.randrange(1, 48), seconds=rng.randrange(60))
            comments.add(
                conn, app_id, rec_id, ctx.db.next_value(comments.counter_name(app_id, rec_id)),
                text=rng.choice(_COMMENTS), created_at=iso_second(moment),
                creator={"code": author, "name": USERS[author][0]},
                mentions=[_mention(ctx, code, kind) for code, kind in picked],
            )


def _mention(ctx: Ctx, code: str, kind: str) -> comments.Mention:
    return comments.Mention(code, kind, ctx.sandbox.directory.entity(kind, code)["name"])
