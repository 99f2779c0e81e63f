"""A PermissionError as the sentence an operator needs: which path stops this user, whose it
is, and the command to run instead (usually the same one under `sudo`).

The state directory of the systemd units (/var/lib/private/monitor behind /var/lib/monitor)
is root-only by design, so `monitor status` as a normal user meets this first."""

from __future__ import annotations

import os
import pwd
import shlex
from pathlib import Path


def _user(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a systemd DynamicUser= has no passwd entry outside its unit
        return f"uid {uid}"


def blocking_path(target: Path) -> tuple[Path, str]:
    """The path that denies this user, and what the user may not do with it: the first folder
    on the way it may not enter, else the file it may not open, else the folder it may not
    create the file in."""
    real = Path(os.path.realpath(target))  # /var/lib/monitor -> /var/lib/private/monitor
    for folder in [*reversed(real.parents)][1:]:
        if not os.access(folder, os.X_OK):
            return folder, "enter"
    if os.path.lexists(real):
        return real, "open"
    return real.parent, "write in"


# Paths, never secrets: sudo drops the environment, so the fix names them again.
PATH_VARIABLES = (
    "CREDENTIALS_DIRECTORY",
    "SENTRY_AUTH_TOKEN_FILE",
    "MAILGUN_API_KEY_FILE",
    "SMTP_PASSWORD_FILE",
)


def denied_sentence(err: PermissionError, argv: list[str]) -> str:
    """One sentence naming the path, its owner and the fix, for a command run as `argv`."""
    me = _user(os.geteuid())
    keep = [f"{name}={os.environ[name]}" for name in PATH_VARIABLES if os.environ.get(name)]
    command = shlex.join([*keep, "monitor", *argv])
    if err.filename is None:
        return f"Permission denied for user {me}: run `sudo {command}`."
    path, verb = blocking_path(Path(os.fsdecode(err.filename)))
    try:
        info = path.stat()
        owner, mode = _user(info.st_uid), f"{info.st_mode & 0o7777:04o}"
    except OSError:
        return f"{path} is not open to user {me}: run `sudo {command}`."
    rights = "writable" if verb == "write in" else "readable"
    # Inside a monitor unit (systemd sets both for a unit with LoadCredential=): sudo is not the fix;
    # a shell started from another unit has INVOCATION_ID alone.
    if os.environ.get("INVOCATION_ID") and os.environ.get("CREDENTIALS_DIRECTORY"):
        return (
            f"{path} is {rights} only by {owner} (mode {mode}), not by user {me}: give it to this "
            "unit's user or remove it, then restart the unit."
        )
    also = "" if owner in ("root", me) else f", or run it as {owner}"
    return f"{path} is {rights} only by {owner} (mode {mode}), not by user {me}: run `sudo {command}`{also}."
