"""Start a workflow run: ``POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches``.

The one place ml-ci dispatches a workflow (the drift watch's retraining, the monitor's
``--apply``). GitHub's answers are turned into one line that says what to fix:

* 404: no such workflow in the repository (or the token can't see the repository);
* 422: the workflow has no ``workflow_dispatch`` trigger on that ref, or the ref does not exist;
* 403: the token lacks ``actions: write``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ml_ci.errors import InputError

if TYPE_CHECKING:
    from ml_ci.github.client import GitHubClient


def dispatch_workflow(client: GitHubClient, repository: str, workflow: str, ref: str) -> None:
    """Dispatch ``workflow`` (file name or id) on ``ref`` in ``repository`` (owner/name).

    GitHub answers 204 with no body: the run is queued, its id is not returned."""
    from ml_ci.github.client import Forbidden, NotFound, Unprocessable

    if not workflow or "/" in workflow:
        raise InputError(
            f"workflow {workflow!r}: give the file name under .github/workflows (e.g. retrain.yml)"
        )
    where = f"dispatching workflow {workflow} on {ref} in {repository}"
    try:
        client.request(
            "POST",
            f"/repos/{repository}/actions/workflows/{workflow}/dispatches",
            json={"ref": ref},
        )
    except NotFound as error:
        raise InputError(
            f"{where}: workflow not found; check that .github/workflows/{workflow} exists on "
            f"the default branch and that the token can see {repository}"
        ) from error
    except Unprocessable as error:
        raise InputError(
            f"{where}: GitHub refused ({error}); the workflow must have an 'on: "
            f"workflow_dispatch' trigger on {ref}, and {ref} must exist"
        ) from error
    except Forbidden as error:
        raise InputError(
            f"{where}: forbidden; the token needs 'actions: write' (add it to the workflow's "
            "'permissions:' block)"
        ) from error
