"""What the systemd units of a config will need on this machine (`check-config --deployment`):
each problem one line with its fix."""

from __future__ import annotations

import os
from pathlib import Path

from monitor.config.settings import Settings
from monitor.deploy.units import BINARY, CREDENTIALS, credentials

STATE = Path("/var/lib/monitor")  # StateDirectory=monitor: the only place the units may write


def deployment_problems(
    settings: Settings, credentials_dir: Path = Path(CREDENTIALS), binary: Path = Path(BINARY)
) -> list[str]:
    problems = []
    for what, path in (
        ("monitor.database", settings.monitor.database.parent),
        ("digest.out_dir", settings.digest.out_dir),
    ):
        if what == "digest.out_dir" and settings.digest.transport != "file":
            continue
        if not path.is_relative_to(STATE):
            problems.append(
                f"{what}: {path} is outside {STATE}, the only folder the units may write; "
                f"put it under {STATE} (e.g. {STATE / 'monitor.db'})."
            )
        elif path.exists() and not os.access(path, os.W_OK):
            problems.append(f"{what}: {path} is not writable by this user; run the check with sudo.")
    for name in credentials(settings):
        file = credentials_dir / name
        if not file.is_file():
            problems.append(
                f"credentials: {file} is missing, but the units load it (LoadCredential={name}); create it "
                f"with `sudo install -D -m 600 /dev/stdin {file}` and paste the secret, or the unit fails "
                "with 243/CREDENTIALS."
            )
    if not os.access(binary, os.X_OK):
        problems.append(
            f"ExecStart: {binary} is not an executable here; link the checkout's command with "
            f'`sudo ln -sf "$PWD/.venv/bin/monitor" {binary}` (from the checkout).'
        )
    return problems
