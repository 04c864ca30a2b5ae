"""``ml-ci canary``: judge the canary on live traffic with anytime-valid intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ml_ci.commands._common import acting_options, config_option, serving_options
from ml_ci.console import Console, json_option


@click.command("canary")
@click.option(
    "--canary",
    "canary",
    default=None,
    help="Canary version (default: the registry's canary stage).",
)
@click.option(
    "--production",
    "production",
    default=None,
    help="Production version (default: the registry's production stage).",
)
@click.option(
    "--since", default=None, help="Ignore requests before this time (ISO-8601 or epoch s)."
)
@click.option("--replay", is_flag=True, help="Show every look up to the first final verdict.")
@click.option(
    "--apply",
    "apply_",
    is_flag=True,
    help="Act on the verdict: promote, or take the canary stage away and open the incident; "
    "record deployments and the result (GitHub: GITHUB_TOKEN and --repo).",
)
@serving_options
@acting_options
@config_option
@json_option
def command(
    logs: str | None,
    canary: str | None,
    production: str | None,
    since: str | None,
    now: str | None,
    replay: bool,
    apply_: bool,
    repo: str | None,
    push: bool,
    config_path: Path | None,
    json_mode: bool,
) -> None:
    """Compare the canary with production on their serving logs; exit 1 on rollback.

    Verdict per look: rollback as soon as a gate shows the canary worse, promote once every gate
    shows non-inferiority after min_duration, hold on a sample-ratio mismatch, continue
    otherwise; on_timeout at max_duration. Intervals are confidence sequences: valid however
    often you look.
    """
    import time

    from ml_ci.canary.engine import CanarySettings, execute
    from ml_ci.clock import parse_time
    from ml_ci.commands._common import optional_config
    from ml_ci.errors import GateFailed

    console = Console(json_mode=json_mode)
    config, found = optional_config(config_path, console.progress)
    settings = CanarySettings(
        config=config,
        base=(found.parent if found is not None else Path.cwd()),
        now=parse_time(now, "--now") if now is not None else time.time(),
        logs=logs,
        canary=canary,
        production=production,
        since=parse_time(since, "--since") if since is not None else None,
        replay=replay,
        clock=time.time(),
    )
    result = execute(settings, progress=console.progress)
    payload = result.to_json(replay)
    if apply_:
        payload["applied"] = _apply(result, config, repo, found, push, settings.now, console)
    console.result(describe(payload, replay), payload)
    if result.verdict == "rollback":
        raise GateFailed(f"canary: rollback {result.canary} (decided at {result.decided_at})")


def _apply(
    result: Any,
    config: Any,
    repo: str | None,
    found: Path | None,
    push: bool,
    now: float,
    console: Console,
) -> dict[str, Any]:
    from ml_ci.canary.apply import apply
    from ml_ci.commands._common import acting_context

    done = apply(
        result,
        config,
        **acting_context(repo, found),
        branch=config.baseline.default_branch,
        push=push,
        now=now,
        progress=console.progress,
    )
    return done.to_json()


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.4g}"


def describe(payload: dict[str, Any], replay: bool) -> str:
    lines = [
        f"canary {payload['canary']} vs production {payload['production']}: "
        f"{payload['verdict']}" + (f" at {payload['decided_at']}" if payload["decided_at"] else ""),
        f"  requests: canary {payload['n_canary']}, production {payload['n_production']}",
    ]
    for gate in payload["gates"]:
        lines.append(
            f"  {gate['metric']:16} {gate['status']:13} canary {_fmt(gate['canary'])} "
            f"production {_fmt(gate['production'])} interval [{_fmt(gate['lower'])}, "
            f"{_fmt(gate['upper'])}]"
        )
    ratio = payload.get("sample_ratio")
    if ratio:
        lines.append(
            f"  traffic share {_fmt(ratio['observed'])} (expected {ratio['expected']}; "
            f"interval [{_fmt(ratio['lower'])}, {_fmt(ratio['upper'])}])"
            + (" MISMATCH" if ratio["mismatch"] else "")
        )
    if replay:
        for look in payload.get("looks", []):
            lines.append(
                f"  look {look['end']}: {look['verdict']} "
                f"(canary {look['n_canary']}, production {look['n_production']})"
            )
    return "\n".join(lines)
