"""``kintone-gateway users add NAME``: a new user, whose authtoken is printed once.

Only the token's keyed hash is written, to the users file (``--file``, else ``[Security]
UsersFile``, else ``users.cfg``), created with mode 0600. The key comes from ``[Security]
TokenKey`` or the key file (``TokenKeyFile``, default ``token.key``), which is created, with mode
0600, when missing. A running gateway notices the new user without a restart.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from ..settings import DEFAULT_PATH, PATH_VARIABLE, Section, read_settings_file
from .provision import issue
from .rights import ANY, PRIVILEGES, Rights, RightsError
from .tokens import key_file, load_key
from .users import (
    DEFAULT_USERS_FILE,
    check_name,
    parse_expiry,
    parse_limit,
    read_users_file,
    section_values,
)
from .users_file import add_user_line

_LIFETIME = re.compile(r"(\d+)([dh])")
_UNITS = {"d": "days", "h": "hours"}


def add_users_command(commands: argparse._SubParsersAction) -> None:
    """Add ``users`` (with its ``add`` action) to the ``kintone-gateway`` sub-commands."""
    users = commands.add_parser("users", help="manage the users who may call the gateway",
                                description="Manage the users who may call the gateway.")
    actions = users.add_subparsers(title="actions", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add", help="add a user and print its authtoken (shown only once)",
        description="Add a user and print 'authtoken: NAME TOKEN'. The token is shown only "
                    "once; the users file keeps a keyed hash of it.")
    add.add_argument("name", metavar="NAME", help="user name (letters, digits, _ . @ -)")
    add.add_argument("--methods", default="GET",
                     help=f"methods the user may use, comma-separated: {', '.join(PRIVILEGES)} "
                          "(PUT also allows PATCH and MERGE), or * for all (default: GET)")
    add.add_argument("--resources", default=ANY,
                     help="entity sets the methods apply to, comma-separated, or * for all "
                          "(default: *)")
    add.add_argument("--expires", type=_expiry, metavar="WHEN",
                     help="when the token stops working: an ISO date or date-time (UTC unless "
                          "it names a zone), or a lifetime such as 90d or 12h (default: never)")
    add.add_argument("--per-hour", type=_limit, metavar="N",
                     help="requests per hour (0 = unlimited; default: [Security] "
                          "RequestsPerHour)")
    add.add_argument("--concurrent", type=_limit, metavar="N",
                     help="requests at once (0 = unlimited; default: [Security] MaxConcurrent)")
    add.add_argument("--file", metavar="FILE",
                     help=f"users file (default: [Security] UsersFile, else {DEFAULT_USERS_FILE})")
    add.add_argument("--config", metavar="FILE",
                     help=f"settings file with the [Security] section (default: ${PATH_VARIABLE} "
                          f"or {DEFAULT_PATH})")
    add.set_defaults(run=run_users_add)


def run_users_add(args: argparse.Namespace) -> int:
    try:
        security = _security_section(args.config)
        path = Path(args.file or security.get("UsersFile", DEFAULT_USERS_FILE))
        existing = read_users_file(path, os.environ) if path.exists() else {}
        if check_name(args.name) in existing:
            raise ValueError(f"user {args.name.lower()} already exists in {path}")
        had_key = key_file(security).exists()
        user, token = issue(load_key(security, create=True), args.name,
                            Rights.of(args.methods.split(","), args.resources.split(",")),
                            per_hour=args.per_hour, concurrent=args.concurrent,
                            expires=args.expires)
        add_user_line(path, user)
    except (ValueError, RightsError, OSError) as exc:  # SettingsError is a ValueError
        sys.exit(f"kintone-gateway: error: {exc}")
    if not had_key and key_file(security).exists():
        print(f"created the token key file {key_file(security)} (mode 600)", file=sys.stderr)
    print(f"authtoken: {user.name} {token}", flush=True)
    print(f"User {user.name} added to {path} with rights {user.rights}. The authtoken is shown "
          "only this once.", file=sys.stderr)
    return 0


def _security_section(path: str | None) -> Section:
    """``[Security]`` of the settings file, read without the rest (which may be incomplete)."""
    parser = read_settings_file(path, os.environ)
    return Section("security", MappingProxyType(section_values(parser, "Security")), os.environ)


def _expiry(text: str) -> datetime:
    lifetime = _LIFETIME.fullmatch(text.strip())
    if lifetime:
        amount, unit = lifetime.groups()
        return (datetime.now(UTC) + timedelta(**{_UNITS[unit]: int(amount)})).replace(
            microsecond=0)
    try:
        return parse_expiry(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is neither an ISO date(-time) nor a "
                                         "lifetime such as 90d") from None


def _limit(text: str) -> int:
    try:
        return parse_limit(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None
