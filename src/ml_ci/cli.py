"""The ``ml-ci`` command: parses, dispatches, and maps errors to exit codes.

Each subcommand lives in its own module under :mod:`ml_ci.commands` and is imported only
when it runs, so ``ml-ci --help`` stays fast (no dvc, pandas or scikit-learn import).
Exit codes: 0 pass, 1 a gate failed, 2 usage or input error, 3 internal error.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from typing import Any

import click

from ml_ci import __version__
from ml_ci.console import escape_control
from ml_ci.cpu import prefer_fast_sort
from ml_ci.errors import EXIT_INTERNAL, EXIT_USAGE, MlCiError

# ``ml-ci`` alone raises this (click >= 8.2) to show the help: shown as is, it holds no input
NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())

# name -> (module, short help). The module defines a click command called ``command``.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("ml_ci.commands.validate", "Validate ml-ci.yaml."),
    "schema": ("ml_ci.commands.schema", "Print the JSON Schema of ml-ci.yaml or of the record."),
    "pull": ("ml_ci.commands.pull", "Pull DVC-tracked data from the configured remote."),
    "repro": ("ml_ci.commands.repro", "Reproduce the pipeline and verify it against dvc.lock."),
    "baseline": ("ml_ci.commands.baseline", "Score the baseline model on the candidate's data."),
    "compare": ("ml_ci.commands.compare", "Compare candidate with baseline through gates."),
    "catalog": ("ml_ci.commands.catalog", "Check sources, features and model type are approved."),
    "drift": ("ml_ci.commands.drift", "Check data drift and data quality."),
    "watch": ("ml_ci.commands.watch", "Act on a drift result: retrain, ask a human, or nothing."),
    "report": ("ml_ci.commands.report", "Render the evaluation report (markdown, html, summary)."),
    "publish": ("ml_ci.commands.publish", "Post the report to the pull request, set status."),
    "approve-status": ("ml_ci.commands.approve_status", "Evaluate governance approvals."),
    "release": ("ml_ci.commands.release", "Tag the approved model version for canary."),
    "promote": ("ml_ci.commands.promote", "Assign a model version to a stage."),
    "rollback": ("ml_ci.commands.rollback", "Re-assign the previous version of a stage."),
    "retire": ("ml_ci.commands.retire", "Retire (deregister) a model version, with a reason."),
    "canary": ("ml_ci.commands.canary", "Judge the canary on live traffic; exit 1 on rollback."),
    "monitor": ("ml_ci.commands.monitor", "Hold production to its SLOs; exit 1 on a page."),
    "drill": ("ml_ci.commands.drill", "Rehearse an incident on the demo: detect, act, runbook."),
    "dashboard": ("ml_ci.commands.dashboard", "Write the static HTML dashboard of the models."),
    "registry": ("ml_ci.commands.registry", "Show models, versions and stages from git tags."),
    "init": ("ml_ci.commands.init", "Add ml-ci to an existing git + DVC repository."),
    "hook": (
        "ml_ci.commands.hook",
        "pre-commit hooks (config, dvc-lock, large data, determinism, catalog).",
    ),
    "record": ("ml_ci.commands.record", "Show or validate an evaluation record."),
    "demo": ("ml_ci.commands.demo", "Build the bundled example and run the pipeline on it."),
}


def _available(name: str) -> bool:
    module = COMMANDS[name][0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if _available(name)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not _available(cmd_name):
            return None
        module = importlib.import_module(COMMANDS[cmd_name][0])
        command: click.Command = module.command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ml-ci")
@click.option("--debug", is_flag=True, help="Show tracebacks for every error.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """ml-ci: pull, reproduce, compare, report, govern and release ML models.

    Exit codes: 0 pass, 1 a gate failed, 2 usage or input error, 3 internal error.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("ML_CI_DEBUG", "") not in ("", "0")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI and return the exit code (never a traceback for user errors)."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    prefer_fast_sort(os.environ)  # before numpy is imported (see ml_ci.cpu)
    try:
        result: Any = cli.main(args=args, prog_name="ml-ci", standalone_mode=False)
    except click.exceptions.Exit as stop:
        return int(stop.exit_code)
    except click.Abort:
        click.echo("ml-ci: aborted", err=True)
        return EXIT_USAGE
    except NO_ARGS_IS_HELP as error:
        error.show()  # ``ml-ci`` alone: the help text, ours (no input in it)
        return EXIT_USAGE
    except click.ClickException as error:
        # one line, escaped like every error: an option's value may come from input
        ctx = getattr(error, "ctx", None)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        _error_line(f"{error.format_message()}{where}")
        return EXIT_USAGE
    except MlCiError as error:
        if debug:
            traceback.print_exc()
        _error_line(str(error))
        return error.exit_code
    except OSError as error:
        if error.filename is None:  # not about a file: a socket, a subprocess... our bug
            return _internal(error, debug)
        if debug:
            traceback.print_exc()
        # a path the user gave (--html, $GITHUB_STEP_SUMMARY, ...) that cannot be used
        hint = (
            " (a file is where a folder is needed)"
            if isinstance(error, FileExistsError | NotADirectoryError)
            else ""
        )
        _error_line(f"cannot write or read {error.filename}: {error.strerror or error}{hint}")
        return EXIT_USAGE
    except RecursionError:
        if debug:
            traceback.print_exc()
        _error_line("an input file is nested too deeply (thousands of levels); check its brackets")
        return EXIT_USAGE
    except KeyboardInterrupt:
        click.echo("ml-ci: interrupted", err=True)
        return EXIT_INTERNAL
    except Exception as error:
        return _internal(error, debug)
    return int(result) if isinstance(result, int) else 0


def _error_line(message: str) -> None:
    """The one place an error is printed: one line on stderr, input's control bytes escaped
    (a newline from a crafted CSV header would otherwise start a workflow-command line)."""
    click.echo(f"ml-ci: {escape_control(message)}", err=True)


def _internal(error: Exception, debug: bool) -> int:
    if debug:
        traceback.print_exc()
    _error_line(
        f"internal error: {type(error).__name__}: {error} "
        "(rerun with --debug for the traceback, and please report it)"
    )
    return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
