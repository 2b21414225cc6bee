"""Changing the users file in place: add, replace or remove one user's line.

The file is edited as text, so that its comments and order stay as they are, and replaced
atomically (a temporary file in the same directory, mode 0600, renamed over it): a gateway
instance re-reading it never sees half a file, and every instance notices the new one.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from .users import SECTION, User

_SECTION_HEADER = re.compile(r"\s*\[([^\]]*)\]")


def add_user_line(path: Path, user: User) -> None:
    _rewrite(path, user.name, f"{user.name} = {user.line()}", must_exist=False)


def replace_user_line(path: Path, user: User) -> None:
    _rewrite(path, user.name, f"{user.name} = {user.line()}", must_exist=True)


def remove_user_line(path: Path, name: str) -> None:
    _rewrite(path, name, None, must_exist=True)


def _rewrite(path: Path, name: str, line: str | None, *, must_exist: bool) -> None:
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    lines = text.splitlines()
    section = _section_span(lines)
    if section is None:
        lines += [f"[{SECTION}]"]
        section = (len(lines), len(lines))
    start, end = section
    found = _user_span(lines, start, end, name)
    if (found is not None) != must_exist:
        raise ValueError(f"user {name} {'does not exist' if must_exist else 'already exists'} "
                         f"in {path}")
    new = [line] if line is not None else []
    if found is None:
        # After the section's last non-blank line, so a blank line before the next one stays.
        at = end
        while at > start and not lines[at - 1].strip():
            at -= 1
        lines[at:at] = new
    else:
        lines[found[0]:found[1]] = new
    _write_atomically(path, "\n".join(lines) + "\n")


def _section_span(lines: list[str]) -> tuple[int, int] | None:
    """The lines of ``[Users]`` (after its header up to the next header), if it is there."""
    start = None
    for number, text in enumerate(lines):
        header = _SECTION_HEADER.match(text)
        if header is None:
            continue
        if start is not None:
            return start, number
        if header.group(1).strip().lower() == SECTION.lower():
            start = number + 1
    return (start, len(lines)) if start is not None else None


def _user_span(lines: list[str], start: int, end: int, name: str) -> tuple[int, int] | None:
    """The user's key line and its indented continuation lines."""
    key = re.compile(rf"({re.escape(name)})\s*[=:]", re.IGNORECASE)
    for number in range(start, end):
        if key.match(lines[number]):
            last = number + 1
            while last < end and lines[last][:1] in (" ", "\t") and lines[last].strip():
                last += 1
            return number, last
    return None


def _write_atomically(path: Path, text: str) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:  # mkstemp: mode 0600
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
