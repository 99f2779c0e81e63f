"""The command line. The only place where an error becomes a sentence on stderr and an exit
code: 0 success, 1 the job ran and failed, 2 bad usage, config or input file."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from monitor import __version__
from monitor.config.access import denied_sentence
from monitor.config.context import AppContext
from monitor.config.load import default_config_path
from monitor.config.logs import redactor, setup_logging
from monitor.core.errors import ConfigError, MonitorError

log = logging.getLogger("monitor")
F = TypeVar("F", bound=Callable[..., Any])


def _set_config(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.ensure_object(dict)["config"] = value


def _set_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(dict)["verbose"] = True
        setup_logging(verbose=True)


def common_options(func: F) -> F:
    """`--config` and `--verbose`, accepted before or after the command name."""
    func = click.option(
        "--config",
        type=click.Path(path_type=Path, dir_okay=False),
        expose_value=False,
        is_eager=True,
        callback=_set_config,
        help="Config file (default: $MONITOR_CONFIG, else ./schedules.toml).",
    )(func)
    return click.option(
        "-v",
        "--verbose",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_verbose,
        help="Debug logging, and tracebacks on errors.",
    )(func)


def app_context(ctx: click.Context) -> AppContext:
    options = ctx.find_root().ensure_object(dict)
    if "app" not in options:
        options["app"] = AppContext(
            config_path=options.get("config") or default_config_path(), verbose=options.get("verbose", False)
        )
    app: AppContext = options["app"]
    return app


class MonitorGroup(click.Group):
    """Turns expected errors into one or two sentences and the documented exit codes."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.ensure_object(dict)["argv"] = list(args)  # to name the command again, e.g. under sudo
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MonitorError as err:
            verbose = ctx.ensure_object(dict).get("verbose", False)
            if verbose:
                traceback.print_exc()
            _print_error(err)
            ctx.exit(err.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort, KeyboardInterrupt):
            raise
        except PermissionError as err:
            if ctx.ensure_object(dict).get("verbose", False):
                traceback.print_exc()
            click.echo(f"Error: {denied_sentence(err, _argv_with_config(ctx))}", err=True)
            ctx.exit(1)
        except Exception as err:  # anything unexpected: one sentence, the traceback on request
            if ctx.ensure_object(dict).get("verbose", False):
                traceback.print_exc()
                ctx.exit(1)
            click.echo(
                f"Error: unexpected {type(err).__name__}: {err} (run with --verbose for details).", err=True
            )
            ctx.exit(1)


def _argv_with_config(ctx: click.Context) -> list[str]:
    """The command's arguments, with `--config` spelled out: sudo drops $MONITOR_CONFIG."""
    options = ctx.ensure_object(dict)
    argv: list[str] = options.get("argv", [])
    if "--config" in argv or any(arg.startswith("--config=") for arg in argv):
        return argv
    return [*argv, "--config", str(options.get("config") or default_config_path())]


def _print_error(err: MonitorError) -> None:
    # Error text may quote a vendor's answer; never let a secret it echoes reach the terminal.
    def say(text: str) -> None:
        click.echo(redactor.mask(text), err=True)

    if isinstance(err, ConfigError):
        if len(err.problems) == 1 and not err.source:  # e.g. the file is missing: one sentence
            say(f"Error: {err.problems[0]}")
            return
        say(f"Error: {len(err.problems)} problem(s) in {err.source or 'the configuration'}:")
        for problem in err.problems:
            say(f"  {problem}")
        return
    say(f"Error: {err}")


@click.group(
    cls=MonitorGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@common_options
@click.version_option(__version__, prog_name="monitor")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Finds CustomersDot customers hit by purchase errors (Sentry) or undeliverable mail
    (Mailgun), links them to customer records and mails a daily digest to support.

    \b
    Start with:  monitor demo               (everything on local simulators)
    Then:        monitor check-config       (your schedules.toml and secrets)
                 monitor customers import customers.csv
                 monitor poll               (one poll of both sources)
                 monitor digest             (yesterday's digest, to stdout)
    """
    ctx.ensure_object(dict)
    if not ctx.obj.get("verbose"):
        # The daemon logs a line per job; other commands print their own results.
        setup_logging(level=logging.INFO if ctx.invoked_subcommand == "run" else logging.WARNING)


def _register() -> None:
    # Each command family lives in its own module under monitor/commands/.
    from monitor.commands import register_all

    register_all(main)


_register()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
