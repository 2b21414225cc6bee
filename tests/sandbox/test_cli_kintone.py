"""Cybozu's official command-line tool (``@kintone/cli``) against the sandbox: a round trip.

Export an app with attachments and subtables, upsert-import the CSV into a twin app, export that
and compare; update by key; import a CSV with blank "Created by" cells; write a lookup with one
API token and with both; delete everything. An export paged by ``$id`` equals one by cursor.
Then ``customize apply`` and ``customize export`` in a guest space. Needs Node.js and npm:
``npm ci`` installs the tool pinned in ``tests/js/cli-kintone/package-lock.json`` on first run.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from functools import partial
from pathlib import Path

import pytest
import requests

from tests.conftest import ADMIN
from tests.kintone_http import Kintone
from tests.lookup_apps import customer_lookup, make_customers
from tests.sandbox.test_guest_space import make_space

CLI_DIR = Path(__file__).resolve().parents[1] / "js" / "cli-kintone"
CLI = CLI_DIR / "node_modules" / "@kintone" / "cli" / "cli.js"
RIGHTS = ["view", "add", "edit", "delete"]
# Columns that differ between two apps by design: subtable row ids and the write times.
VOLATILE = {"lines", "Created_datetime", "Updated_datetime"}

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="Node.js and npm are needed to run Cybozu's @kintone/cli",
)


@pytest.fixture(scope="module")
def cli() -> Path:
    if not CLI.exists():
        installed = subprocess.run(["npm", "ci", "--prefix", str(CLI_DIR), "--no-audit",
                                    "--no-fund"], capture_output=True, text=True, timeout=300)
        if installed.returncode != 0:  # e.g. no access to the npm registry
            pytest.skip(f"npm ci of @kintone/cli failed: {installed.stderr.strip()[-300:]}")
    return CLI


@pytest.fixture(scope="module")
def base_url(server) -> str:
    return f"http://localhost:{server.port}"  # the tool takes plain http for localhost only


def extension(server, path: str, body: dict) -> dict:
    response = requests.post(f"{server.url}/__sandbox/{path}", json=body, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


OPTIONS = {name: {"label": name, "index": str(i)} for i, name in enumerate(["赤", "blue, ok"])}
# More field types the CSV carries, with the value each seeded record gets (by its number n).
TYPED = {
    "day": ("DATE", {}), "at": ("DATETIME", {}), "time": ("TIME", {}), "site": ("LINK", {}),
    "rich": ("RICH_TEXT", {}), "pick": ("DROP_DOWN", {"options": OPTIONS}),
    "radio": ("RADIO_BUTTON", {"options": OPTIONS, "defaultValue": "赤"}),
    "checks": ("CHECK_BOX", {"options": OPTIONS}), "multi": ("MULTI_SELECT", {"options": OPTIONS}),
    "team": ("ORGANIZATION_SELECT", {}), "grp": ("GROUP_SELECT", {}),
}


def typed_values(n: int) -> dict:
    return {"day": f"2024-0{n + 1}-2{n}", "at": f"2024-05-01T0{n}:30:00Z", "time": f"0{n}:45",
            "site": f"https://example.com/{n}", "rich": f"<b>太字 {n}</b>",
            "pick": "blue, ok", "radio": "赤", "checks": ["赤", "blue, ok"][: n + 1],
            "multi": ["blue, ok"] if n else [], "team": [{"code": "sales"}] if n else [],
            "grp": [{"code": "admins"}]}


def fields(customers: int) -> dict:
    return {
        "key": {"type": "SINGLE_LINE_TEXT", "code": "key", "label": "Key", "unique": True},
        "note": {"type": "MULTI_LINE_TEXT", "code": "note", "label": "Note"},
        "amount": {"type": "NUMBER", "code": "amount", "label": "Amount"},
        "owner": {"type": "USER_SELECT", "code": "owner", "label": "Owner"},
        "customer": {"type": "SINGLE_LINE_TEXT", "code": "customer", "label": "Customer",
                     "lookup": customer_lookup(customers, "customer_name")},
        "customer_name": {"type": "SINGLE_LINE_TEXT", "code": "customer_name",
                          "label": "Customer name"},
        "files": {"type": "FILE", "code": "files", "label": "Files"},
        **{code: {"type": kind, "code": code, "label": code, **props}
           for code, (kind, props) in TYPED.items()},
        "lines": {"type": "SUBTABLE", "code": "lines", "fields": {
            "sku": {"type": "SINGLE_LINE_TEXT", "code": "sku", "label": "SKU"},
            "qty": {"type": "NUMBER", "code": "qty", "label": "Qty"}}},
    }


@pytest.fixture(scope="module")
def apps(server) -> dict:
    customers = make_customers(partial(extension, server),
                               {"C-1": "顧客 一", "C-2": 'Two, "Ltd"'}, [["view"]])
    made = {}
    for name in ("source", "target"):
        made[name] = extension(server, "apps", {"name": f"CLI {name}",
                                                "fields": fields(customers["app"]),
                                                "tokens": [{"rights": RIGHTS}]})
    return {"customers_token": customers["tokens"][0],
            **{name: (app["app"], app["tokens"][0]) for name, app in made.items()}}


def run(cli: Path, cwd: Path, *args: str) -> str:
    result = subprocess.run(["node", str(cli), *args], cwd=cwd, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr
    return result.stdout


def fail(cli: Path, cwd: Path, *args: str) -> str:
    result = subprocess.run(["node", str(cli), *args], cwd=cwd, capture_output=True, text=True,
                            timeout=180)
    assert result.returncode != 0, result.stdout
    return result.stderr


def auth(base_url: str, app: int, *tokens: str) -> list[str]:
    return ["--base-url", base_url, "--app", str(app), "--api-token", ",".join(tokens)]


def seed(base_url: str, app: int, tokens: list[str]) -> None:
    """Three records with an attachment each, through the REST API as any client writes."""
    headers = {"X-Cybozu-API-Token": ",".join(tokens)}
    for n in range(3):
        part = (f"添付{n}.txt", f"attachment {n}\n".encode() * (n + 1), "text/plain")
        upload = requests.post(f"{base_url}/k/v1/file.json", files={"file": part},
                               headers=headers, timeout=30)
        record = {
            "key": {"value": f"K-{n}"},
            "note": {"value": f"行 {n}\nsecond line, \"quoted\""},
            "amount": {"value": f"{n}.25"},
            "owner": {"value": [{"code": "alice"}]},
            "customer": {"value": f"C-{n % 2 + 1}"},
            "files": {"value": [{"fileKey": upload.json()["fileKey"]}]},
            **{code: {"value": value} for code, value in typed_values(n).items()},
            "lines": {"value": [{"value": {"sku": {"value": f"S-{n}-{row}"},
                                           "qty": {"value": str(row)}}} for row in (1, 2)]},
        }
        answer = requests.post(f"{base_url}/k/v1/record.json", json={"app": app, "record": record},
                               headers=headers, timeout=30)
        assert answer.status_code == 200, answer.text


def rows(text: str) -> list[dict]:
    return [{k: v for k, v in row.items() if k not in VOLATILE}
            for row in csv.DictReader(io.StringIO(text))]


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_export_upsert_import_and_delete_round_trip(cli, base_url, apps, tmp_path):
    (source, source_token), (target, target_token) = apps["source"], apps["target"]
    lookups = apps["customers_token"]
    seed(base_url, source, [source_token, lookups])
    exported = run(cli, tmp_path, "record", "export", *auth(base_url, source, source_token),
                   "--attachments-dir", "out")
    (tmp_path / "export.csv").write_text(exported, encoding="utf-8")
    assert len(files_under(tmp_path / "out")) == 3
    last = rows(exported)[-1]  # K-2's second subtable row repeats the record's cells
    assert {code: last[code] for code in ("at", "checks", "team", "customer_name")} == {
        "at": "2024-05-01T02:30:00Z", "checks": "赤\nblue, ok", "team": "sales",
        "customer_name": "顧客 一"}

    # The target's lookup needs the customers app's token too, as on Kintone.
    refused = fail(cli, tmp_path, "record", "import", *auth(base_url, target, target_token),
                   "--file-path", "export.csv", "--attachments-dir", "out", "--update-key", "key")
    assert "GAIA_LO04" in refused
    import_args = ["record", "import", *auth(base_url, target, target_token, lookups),
                   "--file-path", "export.csv", "--attachments-dir", "out", "--update-key", "key"]
    run(cli, tmp_path, *import_args)
    copied = run(cli, tmp_path, "record", "export", *auth(base_url, target, target_token),
                 "--attachments-dir", "back")
    assert rows(copied) == rows(exported)
    assert files_under(tmp_path / "back") == files_under(tmp_path / "out")

    # Upsert again with a changed row: an update by key, not a new record.
    changed = exported.replace("行 0\nsecond line", "行 0\nchanged line")  # on both its rows
    (tmp_path / "export.csv").write_text(changed, encoding="utf-8")
    run(cli, tmp_path, *import_args)
    again = rows(run(cli, tmp_path, "record", "export", *auth(base_url, target, target_token),
                     "--attachments-dir", "again"))
    assert again == rows(changed) and len({r["Record_number"] for r in again}) == 3
    assert files_under(tmp_path / "again") == files_under(tmp_path / "out")

    run(cli, tmp_path, "record", "delete", *auth(base_url, target, target_token), "--yes")
    left = requests.get(f"{base_url}/k/v1/records.json", params={"app": target},
                        headers={"X-Cybozu-API-Token": target_token}, timeout=30)
    assert left.json()["records"] == []


def test_blank_creator_cells_import_as_the_caller(cli, base_url, apps, tmp_path):
    target = apps["target"][0]
    (tmp_path / "blank.csv").write_text(
        '"key","amount","Created_by","Updated_by","Created_datetime","Updated_datetime"\n'
        '"B-1","7","","","",""\n', encoding="utf-8")
    run(cli, tmp_path, "record", "import", "--base-url", base_url, "--app", str(target),
        "--username", ADMIN[0], "--password", ADMIN[1], "--file-path", "blank.csv")
    exported = rows(run(cli, tmp_path, "record", "export",
                        *auth(base_url, target, apps["target"][1]), "--condition", 'key = "B-1"'))
    assert [(r["amount"], r["Created_by"], r["Updated_by"]) for r in exported] == [
        ("7", ADMIN[0], ADMIN[0])]


def test_customize_apply_and_export_in_a_guest_space(cli, base_url, sandbox, admin, tmp_path):
    space = make_space(sandbox, guest=True)
    app = Kintone(admin.base_url, admin.headers, guest_space=space).make_app(
        {"title": {"type": "SINGLE_LINE_TEXT", "code": "title", "label": "Title"}}, space=space)
    sent = tmp_path / "sent"
    sent.mkdir()
    (sent / "app.js").write_text("kintone.events.on('app.record.index.show', () => {});\n")
    (sent / "phone.css").write_text("body { font-size: 14px; }\n")
    manifest = {"app": str(app), "scope": "ADMIN",
                "desktop": {"js": ["https://cdn.example.com/lib.js", "app.js"], "css": []},
                "mobile": {"js": [], "css": ["phone.css"]}}
    (sent / "customize-manifest.json").write_text(json.dumps(manifest))
    login = ["--base-url", base_url, "--username", ADMIN[0], "--password", ADMIN[1],
             "--guest-space-id", str(space), "--app", str(app)]
    run(cli, sent, "customize", "apply", *login, "--input", "customize-manifest.json", "--yes")
    back = tmp_path / "back"
    back.mkdir()
    run(cli, back, "customize", "export", *login, "--yes")
    exported = json.loads((back / "customize-manifest.json").read_text())
    assert exported["scope"] == "ADMIN"
    assert exported["desktop"]["js"][0] == "https://cdn.example.com/lib.js"
    assert (back / "desktop" / "js" / "app.js").read_bytes() == (sent / "app.js").read_bytes()
    assert (back / "mobile" / "css" / "phone.css").read_bytes() == (
        sent / "phone.css").read_bytes()


def test_export_by_id_paging_equals_export_by_cursor(cli, base_url, server, tmp_path):
    # No --order-by: the tool pages by "$id > last limit 500"; with one, it uses a cursor.
    count = 1050
    app = extension(server, "apps", {
        "name": "CLI paging",
        "fields": {"n": {"type": "NUMBER", "code": "n", "label": "N"},
                   "word": {"type": "SINGLE_LINE_TEXT", "code": "word", "label": "Word"}},
        "tokens": [{"rights": ["view"]}],
    })
    extension(server, f"apps/{app['app']}/records", {"records": [
        {"n": {"value": str(i)}, "word": {"value": f"語{i}, \"{i}\""}} for i in range(count)]})
    login = auth(base_url, app["app"], app["tokens"][0])
    by_id = run(cli, tmp_path, "record", "export", *login)
    by_cursor = run(cli, tmp_path, "record", "export", *login, "--order-by", "$id asc")
    assert by_id == by_cursor
    assert [row["n"] for row in csv.DictReader(io.StringIO(by_id))] == [
        str(i) for i in range(count)]
