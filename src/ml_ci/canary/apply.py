"""``ml-ci canary --apply``: act on the verdict through the release code, idempotently.

* ``promote``: the canary version gets ``production`` (:func:`ml_ci.release.promote.promote`,
  the tag writer of ``ml-ci promote``); a GitHub deployment of the version's tag to the
  ``production`` environment with status ``success``; an open canary incident is closed.
* ``rollback``: the ``canary`` stage is taken away from the version
  (:func:`ml_ci.release.retire.unassign`: ``{model}#canary!#{n}``; production untouched); one
  incident issue (kind ``canary``) with the evidence and the rollback runbook; a deployment to
  the ``canary`` environment with status ``failure``.
* ``hold`` (the traffic split is not what the router was told): the incident, nothing else.
* ``continue`` (and ``idle``: no canary in progress): nothing.

Final verdicts are stored, once, beside the version's record (:mod:`ml_ci.release.results`),
compared with the remote's stored results when pushing (a workflow's checkout has none).
Deployments are created with ``auto_merge: false`` and ``required_contexts: []``: a model tag
points at an older commit, which GitHub would otherwise try to merge the default branch into
(409). Every step checks what already exists first, so a rerun or a concurrent run of the
same verdict changes nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_ci.canary.engine import CanaryResult
from ml_ci.github.incidents import IncidentKey, IncidentResult, close_on_recovery, open_or_update

if TYPE_CHECKING:
    from ml_ci.config import Config
    from ml_ci.github.client import GitHubClient

DEPLOY_STATE = {"promote": ("production", "success"), "rollback": ("canary", "failure")}


@dataclass
class CanaryApplied:
    verdict: str
    tags: list[str] = field(default_factory=list)
    incident: IncidentResult | None = None
    deployment: dict[str, Any] | None = None
    stored: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "tags": self.tags,
            "incident": self.incident.to_json() if self.incident else None,
            "deployment": self.deployment,
            "stored": self.stored,
        }


def incident_body(result: CanaryResult, runbook: str, run_url: str | None) -> str:
    """The evidence: the verdict, each gate's interval, the traffic split, the runbook."""
    from ml_ci.report.safe import md_code, md_link

    def number(value: Any) -> str:
        return "-" if value is None else f"{value:.4g}"

    lines = [
        f"**{result.verdict}**: canary {md_code(result.canary)} against production "
        f"{md_code(result.production)}"
        + (f", decided at {result.decided_at}" if result.decided_at else ""),
        "",
        f"Requests: canary {result.n_canary}, production {result.n_production}.",
        "",
        "| gate | status | canary | production | interval |",
        "|---|---|---|---|---|",
    ]
    for gate in result.gates:
        lines.append(
            f"| {md_code(gate['metric'])} | {gate['status']} | {number(gate['canary'])} | "
            f"{number(gate['production'])} | [{number(gate['lower'])}, {number(gate['upper'])}] |"
        )
    ratio = result.sample_ratio
    if ratio:
        lines += [
            "",
            f"Traffic share of the canary: {number(ratio['observed'])} (expected "
            f"{number(ratio['expected'])}, interval [{number(ratio['lower'])}, "
            f"{number(ratio['upper'])}])" + (": **mismatch**" if ratio["mismatch"] else ""),
        ]
    lines += ["", f"Runbook: {md_link('rollback and its verification', runbook)}"]
    if run_url:
        lines.append(f"Run: {md_link('the canary run', run_url)}")
    lines += ["", "Intervals are anytime-valid confidence sequences (ml-ci canary)."]
    return "\n".join(lines)


def _deploy(
    client: GitHubClient,
    repository: str,
    tag: str,
    environment: str,
    state: str,
    run_url: str | None,
) -> dict[str, Any]:
    """A deployment of ``tag`` to ``environment`` with ``state`` (reused when one exists)."""
    for deployment in client.paginate(
        f"/repos/{repository}/deployments", {"environment": environment, "ref": tag}
    ):
        statuses = client.get_json(
            f"/repos/{repository}/deployments/{deployment['id']}/statuses", {"per_page": 1}
        )
        if statuses and statuses[0].get("state") == state:
            return {
                "id": deployment["id"],
                "environment": environment,
                "state": state,
                "created": False,
            }
    made = client.request(
        "POST",
        f"/repos/{repository}/deployments",
        json={
            "ref": tag,
            "environment": environment,
            "auto_merge": False,
            "required_contexts": [],
            "description": f"ml-ci canary: {state}",
            "production_environment": environment == "production",
        },
    ).json()
    body: dict[str, Any] = {"state": state, "description": f"ml-ci canary: {tag} {state}"}
    if run_url:
        body["log_url"] = run_url
    client.request("POST", f"/repos/{repository}/deployments/{made['id']}/statuses", json=body)
    return {"id": made["id"], "environment": environment, "state": state, "created": True}


def apply(
    result: CanaryResult,
    config: Config,
    *,
    root: Path,
    client: GitHubClient | None,
    repository: str | None,
    server: str = "https://github.com",
    branch: str = "main",
    run_url: str | None = None,
    push: bool = True,
    now: float | None = None,
    progress: Callable[[str], None] | None = None,
) -> CanaryApplied:
    from ml_ci.registry import load_registry
    from ml_ci.registry.tags import version_tag
    from ml_ci.release.promote import AssignSettings, promote
    from ml_ci.release.results import append_result, fetch_results, read_results
    from ml_ci.release.retire import unassign

    say = progress or (lambda _message: None)
    model = config.model.name
    done = CanaryApplied(result.verdict)
    if result.verdict not in ("promote", "rollback", "hold"):  # continue, idle: nothing to do
        return done
    key = IncidentKey(model, result.canary, "canary")
    runbook = (
        f"{server}/{repository}/blob/{branch}/{config.monitor.runbooks.strip('/')}/rollback.md"
    )
    if result.verdict == "promote":
        settings = AssignSettings(
            root=root,
            config=config,
            model=model,
            stage="production",
            version=result.canary,
            push=push,
        )
        done.tags = promote(settings, progress=say).tags
    elif result.verdict == "rollback":
        reason = f"canary rolled back at {result.decided_at}"
        done.tags = unassign(root, model, result.canary, "canary", reason=reason, push=push).tags
    for tag in done.tags:
        say(f"tagged {tag}")
    if client is not None and repository:
        bots = tuple(config.monitor.incident_bots)
        if result.verdict == "promote":
            done.incident = close_on_recovery(
                client,
                repository,
                key,
                comment=f"Promoted {result.canary} to production.",
                bots=bots,
            )
        else:
            title = f"ml-ci canary {result.verdict}: {model} {result.canary}"
            done.incident = open_or_update(
                client,
                repository,
                key,
                title=title,
                body=incident_body(result, runbook, run_url),
                labels=tuple(config.monitor.labels),
                bots=bots,
            )
        if result.verdict in DEPLOY_STATE:
            environment, state = DEPLOY_STATE[result.verdict]
            tag = version_tag(model, result.canary)
            done.deployment = _deploy(client, repository, tag, environment, state, run_url)
    info = load_registry(root)[model].versions.get(result.canary)
    if info is not None:
        if push:  # the checkout has no notes: the verdicts stored so far are the remote's
            fetch_results(root)
        stored = read_results(root, info.commit, "canary")
        if not any(
            e.get("verdict") == result.verdict and e.get("decided_at") == result.decided_at
            for e in stored
        ):
            summary = result.to_json(replay=True)
            append_result(root, info.commit, "canary", summary, now=now, push=push)
            done.stored = True
    return done
