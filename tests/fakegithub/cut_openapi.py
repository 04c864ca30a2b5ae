"""Cut the subset of GitHub's OpenAPI description that ml-ci talks to.

Source: the npm package ``@octokit/openapi`` 23.0.2 (MIT), ``generated/api.github.com.json``
(generated from github/rest-api-description). Regenerate the committed subset with::

    cd "$(mktemp -d)" && npm pack @octokit/openapi@23.0.2 && tar xzf octokit-openapi-23.0.2.tgz
    python -m tests.fakegithub.cut_openapi package/generated/api.github.com.json \
        tests/fixtures/github/openapi-subset.json

Only the operations listed in :data:`OPERATIONS` are kept, with every ``$ref`` they reach.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# path -> methods. Everything ml-ci (report/publish, governance, release, drift-watch) calls.
OPERATIONS: dict[str, tuple[str, ...]] = {
    "/user": ("get",),
    "/rate_limit": ("get",),
    "/orgs/{org}/teams/{team_slug}/memberships/{username}": ("get", "put", "delete"),
    "/orgs/{org}/teams/{team_slug}/members": ("get",),
    "/repos/{owner}/{repo}": ("get",),
    "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches": ("post",),
    "/repos/{owner}/{repo}/check-runs": ("post",),
    "/repos/{owner}/{repo}/check-runs/{check_run_id}": ("get", "patch"),
    "/repos/{owner}/{repo}/collaborators/{username}/permission": ("get",),
    "/repos/{owner}/{repo}/commits/{commit_sha}/pulls": ("get",),
    "/repos/{owner}/{repo}/commits/{ref}/status": ("get",),
    "/repos/{owner}/{repo}/commits/{ref}/statuses": ("get",),
    "/repos/{owner}/{repo}/deployments": ("get", "post"),
    "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses": ("get", "post"),
    "/repos/{owner}/{repo}/git/matching-refs/{ref}": ("get",),
    "/repos/{owner}/{repo}/git/ref/{ref}": ("get",),
    "/repos/{owner}/{repo}/git/refs": ("post",),
    "/repos/{owner}/{repo}/git/refs/{ref}": ("patch", "delete"),
    "/repos/{owner}/{repo}/git/tags": ("post",),
    "/repos/{owner}/{repo}/git/tags/{tag_sha}": ("get",),
    "/repos/{owner}/{repo}/issues": ("get", "post"),
    "/repos/{owner}/{repo}/issues/{issue_number}": ("get", "patch"),
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": ("get", "post"),
    "/repos/{owner}/{repo}/issues/{issue_number}/labels": ("get", "post"),
    "/repos/{owner}/{repo}/issues/comments/{comment_id}": ("get", "patch", "delete"),
    "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions": ("get", "post"),
    "/repos/{owner}/{repo}/pulls": ("get",),
    "/repos/{owner}/{repo}/pulls/{pull_number}": ("get", "patch"),
    "/repos/{owner}/{repo}/pulls/{pull_number}/commits": ("get",),
    "/repos/{owner}/{repo}/pulls/{pull_number}/files": ("get",),
    "/repos/{owner}/{repo}/pulls/{pull_number}/reviews": ("get", "post"),
    "/repos/{owner}/{repo}/releases": ("get", "post"),
    "/repos/{owner}/{repo}/releases/assets/{asset_id}": ("get", "delete"),
    "/repos/{owner}/{repo}/releases/tags/{tag}": ("get",),
    "/repos/{owner}/{repo}/releases/{release_id}": ("get", "patch", "delete"),
    "/repos/{owner}/{repo}/releases/{release_id}/assets": ("get", "post"),
    "/repos/{owner}/{repo}/statuses/{sha}": ("post",),
}


def _refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def cut(spec: dict[str, Any]) -> dict[str, Any]:
    """The subset: listed operations plus the closure of the components they reference."""
    paths: dict[str, Any] = {}
    for path, methods in OPERATIONS.items():
        item = spec["paths"][path]
        kept = {m: item[m] for m in methods}
        if "parameters" in item:
            kept["parameters"] = item["parameters"]
        paths[path] = kept
    components: dict[str, dict[str, Any]] = {}
    pending: set[str] = set()
    _refs(paths, pending)
    done: set[str] = set()
    while pending:
        ref = pending.pop()
        if ref in done:
            continue
        done.add(ref)
        _, _, kind, name = ref.split("/", 3)
        node = _resolve(spec, ref)
        components.setdefault(kind, {})[name] = node
        found: set[str] = set()
        _refs(node, found)
        pending |= found - done
    return {
        "openapi": spec["openapi"],
        "info": spec["info"],
        "servers": spec.get("servers", []),
        "paths": paths,
        "components": {kind: dict(sorted(v.items())) for kind, v in sorted(components.items())},
    }


def main(argv: list[str]) -> int:
    source, target = Path(argv[0]), Path(argv[1])
    subset = cut(json.loads(source.read_text(encoding="utf-8")))
    target.write_text(json.dumps(subset, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"{target}: {len(subset['paths'])} paths")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
