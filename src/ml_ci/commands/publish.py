"""``ml-ci publish``: the report on the pull request, the commit status, summary and outputs.

Inside GitHub Actions everything comes from the environment (GITHUB_REPOSITORY, the event
at GITHUB_EVENT_PATH, GITHUB_API_URL, GITHUB_STEP_SUMMARY, GITHUB_OUTPUT, ...); outside,
pass --repo, --pr and --sha. Local writes (HTML report, job summary, step outputs) happen
before any network call, so they exist even when GitHub refuses the token.
"""

from __future__ import annotations

from pathlib import Path

import click

from ml_ci.commands._common import config_option, record_option
from ml_ci.console import Console, json_option


@click.command("publish")
@record_option
@config_option
@click.option("--repo", default=None, help="OWNER/NAME (default: GITHUB_REPOSITORY).")
@click.option("--pr", "pull_request", type=int, default=None, help="Pull request number.")
@click.option("--sha", default=None, help="Commit to set the status on (default: the PR head).")
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("ml-ci-report.html"),
    show_default=True,
    help="Also write the self-contained HTML report here (upload it as an artifact).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send nothing.")
@json_option
def command(
    record_path: Path,
    config_path: Path | None,
    repo: str | None,
    pull_request: int | None,
    sha: str | None,
    html_path: Path,
    dry_run: bool,
    json_mode: bool,
) -> None:
    """Post or update the sticky report comment and set the ml-ci/gates commit status."""
    from ml_ci.commands.report import report_settings
    from ml_ci.github import context as actions
    from ml_ci.github.client import cli_client
    from ml_ci.github.publish import (
        append_summary,
        check_pull_head,
        execute_plan,
        from_fork,
        plan_publish,
        write_outputs,
    )
    from ml_ci.record import load_record
    from ml_ci.report.render import render

    console = Console(json_mode=json_mode)
    record = load_record(record_path)
    title, folder, settings = report_settings(config_path)
    env = actions.from_env()
    target = actions.resolve_target(
        env,
        repo=repo,
        pull_request=pull_request,
        sha=sha,
        record_repo=record.repo.name,
        record_pull_request=record.repo.pull_request,
        record_sha=record.repo.head_sha,
    )
    from ml_ci.report.safe import safe_url

    # the record's links are untrusted: only ones on the server's host are kept
    target_url = (
        safe_url(record.links.get("report"), env.server_url)
        or env.run_url
        or safe_url(record.repo.run_url, env.server_url)
    )
    plan = plan_publish(
        record,
        repo=target.repo,
        pull_request=target.pull_request,
        sha=target.sha,
        key=settings.key,
        title=title,
        template_dir=folder,
        status_context=settings.status_context,
        target_url=target_url,
        unverified=from_fork(env.event, env.repository),
    )

    # workflow commands go to stdout, except under --json where stdout is the JSON
    def workflow_command(line: str) -> None:
        click.echo(line, err=json_mode)

    if dry_run:
        text = (
            f"would publish to {plan.repo}"
            + (f"#{plan.pull_request}" if plan.pull_request else " (no pull request)")
            + f"\nstatus on {plan.sha or '(no commit)'}: {plan.status}\n"
            + "".join(f"annotation: {line}\n" for line in plan.annotations)
            + f"comment ({len(plan.comment)} chars):\n{plan.comment}"
        )
        console.result(text, {"dry_run": True, **plan.as_dict()})
        return

    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(render(record, "html", title=title, template_dir=folder), "utf-8")
    summary_bytes = append_summary(env.step_summary, plan.summary) if env.step_summary else 0
    if env.in_actions:
        for line in plan.annotations:
            workflow_command(line)
    outputs = {"verdict": plan.verdict, "comment-url": "", "report-path": str(html_path)}
    client = cli_client()
    try:
        if target.pull_request_from_record and env.event_sha and target.pull_request:
            check_pull_head(client, target.repo, target.pull_request, env.event_sha)
        result = execute_plan(plan, client, login=settings.login, progress=console.progress)
        outputs["comment-url"] = result.comment_url or ""
    finally:
        client.close()
        if env.output is not None:  # written even when GitHub refused: later steps read them
            write_outputs(env.output, outputs)
    where = f"{plan.repo}#{plan.pull_request}" if plan.pull_request else plan.repo
    console.result(
        f"{where}: comment {result.comment_action or 'skipped (no pull request)'}"
        f"{' ' + result.comment_url if result.comment_url else ''}; "
        f"status {plan.status['state']} on {(plan.sha or 'no commit')[:8]}; "
        f"verdict {plan.verdict}",
        {
            "repo": plan.repo,
            "pull_request": plan.pull_request,
            "sha": plan.sha,
            "verdict": plan.verdict,
            "reason": plan.reason,
            "comment_url": result.comment_url,
            "comment_action": result.comment_action,
            "status_state": plan.status["state"],
            "summary_bytes": summary_bytes,
            "report_path": str(html_path),
        },
    )
