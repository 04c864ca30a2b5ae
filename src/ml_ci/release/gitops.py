"""Creating and publishing registry tags safely.

* **Strictly increasing tagger dates.** GTO orders a model's tags by tagger date at
  one-second resolution, so two tags in the same second would be ambiguous to it. Every tag
  ml-ci writes gets ``GIT_COMMITTER_DATE = max(now, newest tag of the model + 1 s)``.
* **The remote decides races.** Tags are pushed with ``git push --atomic``: a tag that
  already exists on the remote is rejected (git never moves a tag without ``--force``, which
  ml-ci never uses), and ``--atomic`` makes the version tag and its stage tag land together
  or not at all. The loser of a race deletes its local tags, fetches, and plans again.
* **No credentials on disk.** Under Actions the workflows check out with
  ``persist-credentials: false``; the commands that talk to the remote get ``GITHUB_TOKEN``
  as an HTTP header through git's ``GIT_CONFIG_*`` environment (:func:`remote_env`), never
  in ``.git/config``, argv or output, so code run later in the job cannot read it from disk.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ml_ci.errors import ExternalToolError, InputError
from ml_ci.gitutil import git


@dataclass(frozen=True)
class NewTag:
    name: str
    commit: str
    message: str


def next_tag_time(last: int | None, now: int) -> int:
    """Tagger date for the next tag: ``max(now, last + 1)`` -- strictly after ``last``."""
    return now if last is None else max(now, last + 1)


def remote_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a git command that talks to the remote: under Actions with a
    ``GITHUB_TOKEN``, an ``http.<server>/.extraheader`` (what actions/checkout persists, but
    only for this process); otherwise the environment unchanged."""
    import base64

    env = dict(os.environ if environ is None else environ)
    token, server = env.get("GITHUB_TOKEN"), env.get("GITHUB_SERVER_URL")
    if env.get("GITHUB_ACTIONS") != "true" or not token or not server:
        return env
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    index = int(env.get("GIT_CONFIG_COUNT") or 0)
    env[f"GIT_CONFIG_KEY_{index}"] = f"http.{server.rstrip('/')}/.extraheader"
    env[f"GIT_CONFIG_VALUE_{index}"] = f"AUTHORIZATION: basic {basic}"
    # no hook runs with the token in its environment: the release scores the merged commit's
    # predict.command first, and a hook it wrote into .git/hooks (shared by worktrees) would
    # otherwise run inside this push and read the header
    env[f"GIT_CONFIG_KEY_{index + 1}"] = "core.hooksPath"
    env[f"GIT_CONFIG_VALUE_{index + 1}"] = os.devnull
    env["GIT_CONFIG_COUNT"] = str(index + 2)
    return env


def has_remote(root: Path, remote: str) -> bool:
    return remote in git(["remote"], root).split()


def fetch_tags(root: Path, remote: str, model: str | None = None) -> None:
    """Bring the remote's tags (only ``model``'s registry tags, when given) in; a local tag
    that differs from the remote's is an error."""
    patterns = [f"{model}@*", f"{model}#*"] if model else ["*"]
    refspecs = [f"refs/tags/{p}:refs/tags/{p}" for p in patterns]
    done = subprocess.run(
        ["git", "fetch", "--no-write-fetch-head", remote, *refspecs],
        cwd=root,
        env=remote_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        clobber = [line for line in detail if "would clobber existing tag" in line]
        if clobber:
            raise InputError(
                f"{root}: a local tag differs from {remote}'s ({clobber[0].strip()}); "
                "registry tags are never overwritten: delete the local one (git tag -d NAME)"
            )
        raise ExternalToolError(
            f"git fetch {remote} (tags) failed in {root}: {detail[-1] if detail else done.returncode}"
        )


def create_tags(root: Path, tags: list[NewTag], last_time: int | None) -> int:
    """Create annotated ``tags`` in order with strictly increasing tagger dates.

    Returns the date of the last one. An existing local tag is an error (never moved).
    """
    when = last_time
    for tag in tags:
        when = next_tag_time(when, int(time.time()))
        env = {**os.environ, "GIT_COMMITTER_DATE": f"@{when} +0000"}
        done = subprocess.run(
            ["git", "tag", "--annotate", "--cleanup=verbatim", "--file=-", tag.name, tag.commit],
            cwd=root,
            input=tag.message,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if done.returncode != 0:
            raise InputError(
                f"cannot create tag {tag.name!r} in {root}: {done.stderr.strip()}; "
                "registry tags are never overwritten"
            )
    return when or 0


def delete_local_tags(root: Path, names: list[str]) -> None:
    for name in names:
        git(["tag", "--delete", name], root, check=False)


def push_tags(root: Path, remote: str, names: list[str]) -> bool:
    """Push ``names`` atomically; ``False`` when the remote refused because one exists."""
    refs = [f"refs/tags/{name}:refs/tags/{name}" for name in names]
    done = subprocess.run(
        ["git", "push", "--atomic", "--porcelain", remote, *refs],
        cwd=root,
        env=remote_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode == 0:
        return True
    output = done.stdout + done.stderr
    if "already exists" in output or "[rejected]" in output or "atomic push failed" in output:
        return False
    lines = output.strip().splitlines()
    raise ExternalToolError(
        f"git push {remote} {' '.join(names)} failed: {lines[-1] if lines else done.returncode}"
    )


def remote_tags(root: Path, remote: str) -> dict[str, str]:
    """name -> peeled commit of the remote's tags (``git ls-remote``)."""
    done = subprocess.run(
        ["git", "ls-remote", "--tags", remote],
        cwd=root,
        env=remote_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        detail = done.stderr.strip().splitlines()
        raise ExternalToolError(
            f"git ls-remote {remote} failed in {root}: {detail[-1] if detail else done.returncode}"
        )
    out = done.stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        name = ref.removeprefix("refs/tags/")
        if name.endswith("^{}"):
            found[name[:-3]] = sha  # the commit an annotated tag points to
        else:
            found.setdefault(name, sha)
    return found
