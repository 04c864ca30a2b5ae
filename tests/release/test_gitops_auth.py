"""The release pushes with ``persist-credentials: false``: the token reaches git through the
environment of that one command, never ``.git/config``."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

from ml_ci.release.gitops import remote_env

ACTIONS = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_TOKEN": "ghs_secret",
    "GITHUB_SERVER_URL": "https://github.com",
    "PATH": "/usr/bin:/bin",
}


def git_config(root: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["git", "config", "--get", "http.https://github.com/.extraheader"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip()


def test_the_token_is_a_header_for_that_command_only(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    env = remote_env(ACTIONS)
    expected = base64.b64encode(b"x-access-token:ghs_secret").decode()
    assert git_config(tmp_path, env) == f"AUTHORIZATION: basic {expected}"
    assert "ghs_secret" not in (tmp_path / ".git" / "config").read_text()
    assert git_config(tmp_path, dict(ACTIONS)) == ""  # without it git has no credentials


def test_outside_actions_nothing_is_added() -> None:
    plain = {**ACTIONS, "GITHUB_ACTIONS": ""}
    assert remote_env(plain) == plain
    assert "GIT_CONFIG_COUNT" not in remote_env({**ACTIONS, "GITHUB_TOKEN": ""})


def test_existing_git_config_entries_are_kept() -> None:
    env = remote_env({**ACTIONS, "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "a.b"})
    assert env["GIT_CONFIG_COUNT"] == "3" and env["GIT_CONFIG_KEY_0"] == "a.b"
    assert env["GIT_CONFIG_KEY_1"] == "http.https://github.com/.extraheader"


def test_no_hook_runs_with_the_token(tmp_path: Path) -> None:
    """A pre-push hook (e.g. written by code the release ran) never sees the header: git runs
    no hook in a command that carries the token."""
    import os

    remote, clone = tmp_path / "remote.git", tmp_path / "clone"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    subprocess.run(["git", "init", "-q", str(clone)], check=True)
    run = {"cwd": clone, "check": True, "capture_output": True}
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q",
                    "--allow-empty", "-m", "x"], **run)  # type: ignore[call-overload]  # fmt: skip
    stolen = tmp_path / "stolen.txt"
    hook = clone / ".git" / "hooks" / "pre-push"
    hook.write_text(f"#!/bin/sh\nenv > {stolen}\n")
    hook.chmod(0o755)
    env = {**remote_env(ACTIONS), "HOME": str(tmp_path), "PATH": os.environ["PATH"]}
    subprocess.run(["git", "push", "-q", str(remote), "HEAD:refs/heads/main"], env=env, **run)  # type: ignore[call-overload]
    assert not stolen.exists()
    subprocess.run(["git", "push", "-q", str(remote), "HEAD:refs/heads/other"], **run)  # type: ignore[call-overload]
    assert stolen.exists()  # the hook is real: without the token's environment it runs
