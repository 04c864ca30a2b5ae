"""``ml-ci pull``: fetch DVC-tracked data from the remote, with retries and one-line errors.

The work is done by DVC's Python API (``dvc.repo.Repo.pull``). What ml-ci adds is the
diagnosis: before pulling it checks the repository and the remote (configured? a local
folder that exists?); after a failure it names the files whose data is in neither the
cache nor the remote, and maps credential errors to one line. Transient failures
(connection errors, time-outs, and transfer failures from a non-local remote) are retried
with exponential backoff: ``backoff * 2**attempt`` seconds.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ml_ci import gitutil
from ml_ci.dvcrepo import (
    DVC_QUIET_ENV,
    TrackedEntry,
    cache_object,
    dvc_files_at,
    read_lock,
    require_dvc_repo,
    with_progress,
)
from ml_ci.errors import ExternalToolError, InputError


@dataclass(frozen=True)
class PullSettings:
    start: Path
    targets: list[str] = field(default_factory=list)
    remote: str | None = None
    jobs: int | None = None
    retries: int = 3
    backoff_s: float = 0.5


@dataclass(frozen=True)
class PullResult:
    root: Path
    remote: str
    remote_url: str
    fetched: int
    added: list[str]
    modified: list[str]
    attempts: int
    failed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "remote": self.remote,
            "remote_url": self.remote_url,
            "fetched": self.fetched,
            "added": self.added,
            "modified": self.modified,
            "failed": self.failed,
            "attempts": self.attempts,
        }


class Transient(Exception):
    """A failure worth retrying (connection error, time-out, failed transfer)."""


T = TypeVar("T")


def with_retries(
    action: Callable[[], T],
    *,
    retries: int,
    backoff_s: float,
    progress: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[T, int]:
    """Run ``action``; on :class:`Transient` wait ``backoff_s * 2**attempt`` and retry, at
    most ``retries`` times. Returns the result and the number of attempts; the last
    Transient propagates."""
    attempt = 0
    while True:
        try:
            return action(), attempt + 1
        except Transient as error:
            if attempt >= retries:
                raise
            delay = backoff_s * 2**attempt
            progress(f"transient failure ({error}); retry {attempt + 1} of {retries} in {delay:g}s")
            sleep(delay)
            attempt += 1


def execute(settings: PullSettings, progress: Callable[[str], None] | None = None) -> PullResult:
    """Pull ``settings.targets`` (all when empty) into the repository containing ``start``."""
    say = with_progress(progress)
    root = gitutil.repo_root(settings.start)
    require_dvc_repo(root)
    for name, value in DVC_QUIET_ENV.items():
        os.environ.setdefault(name, value)

    from dvc.repo import Repo

    with _quiet_dvc_logs(), Repo(str(root)) as repo:
        remote, url = _resolve_remote(repo, root, settings.remote)
        try:
            stats, attempts = with_retries(
                lambda: _pull_once(repo, settings, remote, url),
                retries=settings.retries,
                backoff_s=settings.backoff_s,
                progress=say,
            )
        except Transient as error:
            raise ExternalToolError(
                f"dvc pull from remote {remote!r} failed after {settings.retries + 1} "
                f"attempts: {error}"
            ) from None
        except _MissingData as missing:
            names = missing.targets or _missing_files(root)
            shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
            maybe = "" if _is_local(url) else " (or the remote is unreachable)"
            raise InputError(
                f"DVC remote {remote!r} ({url}) lacks the data of {len(names)} file(s){maybe}: "
                f"{shown or 'unknown'}; run `dvc push` where they were produced"
            ) from None
    added = sorted(str(path) for path in stats.get("added", []))
    modified = sorted(str(path) for path in stats.get("modified", []))
    fetched = int(stats.get("stats", {}).get("fetched", 0))
    say(f"fetched {fetched} file(s); {len(added) + len(modified)} checked out")
    return PullResult(
        root=root,
        remote=remote,
        remote_url=url,
        fetched=fetched,
        added=added,
        modified=modified,
        attempts=attempts,
    )


class _MissingData(Exception):
    def __init__(self, targets: list[str]) -> None:
        super().__init__("missing data")
        self.targets = targets


def _pull_once(repo: Any, settings: PullSettings, remote: str, url: str) -> dict[str, Any]:
    """One ``repo.pull``; DVC's exceptions become ours (transient, missing data, one line)."""
    from dvc.config import NoRemoteError, RemoteNotFoundError
    from dvc.exceptions import CheckoutError, DownloadError, DvcException
    from dvc_objects.fs.errors import AuthError, RemoteMissingDepsError

    try:
        result: dict[str, Any] = repo.pull(
            targets=settings.targets or None, remote=remote, jobs=settings.jobs
        )
        return result
    except CheckoutError as error:
        raise _MissingData(sorted(str(target) for target in error.target_infos)) from None
    except DownloadError as error:
        if _is_local(url):
            raise _MissingData([]) from None
        raise Transient(str(error)) from None
    except (ConnectionError, TimeoutError) as error:
        raise Transient(f"{type(error).__name__}: {error}") from None
    except AuthError as error:
        raise _credentials_error(remote, error) from None
    except RemoteMissingDepsError as error:
        raise ExternalToolError(
            f"DVC remote {remote!r} needs the {error.protocol!r} plugin; "
            f"pip install 'dvc[{error.protocol}]'"
        ) from None
    except (NoRemoteError, RemoteNotFoundError) as error:
        raise InputError(f"{_first_line(error)}; fix .dvc/config or pass --remote") from None
    except PermissionError as error:
        raise InputError(f"DVC remote {remote!r}: permission denied: {error.filename}") from None
    except DvcException as error:
        if _looks_like_auth(error):
            raise _credentials_error(remote, error) from None
        raise ExternalToolError(f"dvc pull failed: {_first_line(error)}") from None
    except Exception as error:
        # cloud SDKs raise their own types for missing credentials (botocore NoCredentialsError…)
        if _looks_like_auth(error):
            raise _credentials_error(remote, error) from None
        if "timeout" in type(error).__name__.lower() or "connect" in type(error).__name__.lower():
            raise Transient(f"{type(error).__name__}: {error}") from None
        raise


def _resolve_remote(repo: Any, root: Path, name: str | None) -> tuple[str, str]:
    """The remote's name and URL; a missing or unreachable local remote is a one-line error."""
    remotes: dict[str, Any] = dict(repo.config.get("remote", {}))
    chosen = name or repo.config.get("core", {}).get("remote")
    if not chosen:
        if not remotes:
            raise InputError(
                f"{root}: no DVC remote configured; add one: dvc remote add -d NAME URL"
            )
        raise InputError(
            f"{root}: no default DVC remote; pass --remote ({', '.join(sorted(remotes))}) "
            "or run: dvc remote default NAME"
        )
    if chosen not in remotes:
        known = ", ".join(sorted(remotes)) or "none"
        raise InputError(f"DVC remote {chosen!r} is not configured in {root}; remotes: {known}")
    url = str(remotes[chosen].get("url", ""))
    if _is_local(url):
        path = Path(url)
        if not path.is_dir():
            raise InputError(
                f"DVC remote {chosen!r}: folder {path} does not exist or is not reachable; "
                "mount it or fix the url (dvc remote modify)"
            )
        if not os.access(path, os.R_OK | os.X_OK):
            raise InputError(f"DVC remote {chosen!r}: no permission to read {path}")
    return chosen, url


def _is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def _missing_files(root: Path) -> list[str]:
    """DVC-cached files whose data is not in the local cache after the pull (so not remote)."""
    entries: list[TrackedEntry] = []
    lock = read_lock(root)
    if lock is not None:
        entries += lock.outs()
    head = gitutil.head_sha(root)
    if head is not None:
        entries += dvc_files_at(root, head)
    # outputs with `cache: false` are in git, not in the DVC cache
    in_git = set(gitutil.git(["ls-files"], root).splitlines())
    missing = {
        entry.path
        for entry in entries
        if entry.hash and entry.path not in in_git and not cache_object(root, entry.hash).exists()
    }
    return sorted(missing)


def _looks_like_auth(error: BaseException) -> bool:
    text = f"{type(error).__name__} {error}".lower()
    return any(word in text for word in ("credential", "unauthorized", "forbidden", "auth"))


def _credentials_error(remote: str, error: BaseException) -> InputError:
    return InputError(
        f"DVC remote {remote!r}: credentials missing or rejected ({type(error).__name__}); "
        f"set them with `dvc remote modify --local {remote} ...` or the provider's "
        "environment variables"
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


@contextmanager
def _quiet_dvc_logs() -> Iterator[None]:
    """DVC logs warnings to stderr; ml-ci reports instead (one line per problem)."""
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
