"""`monitor demo`."""

from __future__ import annotations

import time
from pathlib import Path

import click

from monitor.cli import common_options

DEFAULT_OUT = Path("reports/out/demo")


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_OUT,
    show_default=True,
    help="Folder for the digest's HTML, text, JSON and the received eml.",
)
@common_options
def demo(out_dir: Path) -> None:
    """Run the whole job on this machine: no accounts, secrets or config file needed.

    Starts local simulators of Sentry and Mailgun and an SMTP server on free loopback
    ports, serves them a realistic sample (61 customers, four days of purchase errors and
    mail problems), then runs the real path: customer import, a poll of both sources, the
    digest sent over SMTP. The database is temporary; your configuration is not read.

    \b
    Example:
      monitor demo --out /tmp/demo
    """
    from monitor.demo.run import run_demo, top_customers_table

    started = time.monotonic()
    result = run_demo(out_dir, echo=click.echo)
    digest = result.digest
    click.echo("")
    click.echo(
        f"Digest of {result.day}: {len(digest['customers'])} customers affected, "
        f"{len(digest['unlinked'])} unlinked signals; "
        f"{result.messages_received} message(s) received over SMTP."
    )
    click.echo("")
    for row in top_customers_table(digest):
        click.echo(f"  {row}")
    click.echo("")
    for fmt, path in result.files.items():
        click.echo(f"  {fmt:<5} {path}")
    click.echo(f"\nDone in {time.monotonic() - started:.1f} s. Open {result.files['html']} in a browser.")


def register(group: click.Group) -> None:
    group.add_command(demo)
