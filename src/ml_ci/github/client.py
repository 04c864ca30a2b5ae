"""The one GitHub REST client: auth, retries, rate limits, pagination, clear errors.

Every GitHub call in ml-ci goes through :class:`GitHubClient`. The retry policy lives in
one place, :meth:`GitHubClient.request`:

* 5xx, connection errors and timeouts: retried with exponential backoff (1, 2, 4, ... s,
  at most 30 s each), up to ``max_retries`` times;
* secondary rate limits (403/429 with ``retry-after``, or a 403 saying "secondary rate
  limit"): wait ``retry-after`` seconds (60 s when absent, as GitHub advises);
* primary rate limits (403/429 with ``x-ratelimit-remaining: 0``): wait until
  ``x-ratelimit-reset``;
* all waiting together is bounded by ``max_wait`` seconds; beyond it :class:`RateLimited`.

Non-idempotent writes (POST) are only retried when GitHub certainly did not act on them
(a rate-limit refusal, a connection that never opened). When the answer to a POST is lost
(reset connection, read timeout, 5xx) the write may or may not have happened, so the
client raises :class:`WriteUnconfirmed` and the caller decides; e.g. the sticky comment
re-lists the comments before creating again. Pass ``idempotent=True`` for POSTs whose
repetition is harmless (a commit status, a ref whose duplicate answers 422).

The token is sent only to the API's own origin (and GitHub's uploads host), never logged,
and never part of an exception message.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ml_ci import __version__
from ml_ci.errors import InputError

if TYPE_CHECKING:
    import requests

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
NOT_ACCESSIBLE = "Resource not accessible by integration"
FORK_TOKEN_HELP = (
    "the token may not write here: on a pull request from a fork GITHUB_TOKEN is read-only. "
    "Use the two-workflow pattern: the pull_request workflow uploads ml-ci-record.json as an "
    "artifact, and a workflow_run workflow with 'permissions: pull-requests: write, "
    "statuses: write' downloads it and runs ml-ci publish (see the README, 'Forks')"
)


class GitHubError(InputError):
    """A GitHub API call failed; ``status`` is the HTTP status (``None``: no answer)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(GitHubError):
    """404: the repository, pull request or object does not exist (or the token can't see it)."""


class Unprocessable(GitHubError):
    """422: GitHub understood the request and refused it (e.g. "Reference already exists")."""

    def __init__(self, message: str, status: int | None = 422, errors: list[Any] | None = None):
        super().__init__(message, status)
        self.errors = errors or []


class Forbidden(GitHubError):
    """403 that is not a rate limit: the token lacks a permission."""


class RateLimited(GitHubError):
    """A rate limit that would take longer than the allowed wait to lift."""


class WriteUnconfirmed(GitHubError):
    """A non-idempotent write whose answer was lost: it may or may not have happened."""


def _message(response: requests.Response) -> tuple[str, list[Any]]:
    """GitHub's ``message`` (and ``errors``) from an error body, else the reason phrase."""
    try:
        body = response.json()
    except ValueError:
        return (response.reason or "error"), []
    if isinstance(body, dict):
        found = body.get("errors")
        errors: list[Any] = found if isinstance(found, list) else []
        message = str(body.get("message") or response.reason or "error")
        details = [
            str(e.get("message") or f"{e.get('field')} {e.get('code')}")
            for e in errors
            if isinstance(e, dict)
        ]
        if details:
            message += ": " + "; ".join(details)
        return message, errors
    return (response.reason or "error"), []


def backoff_delay(attempt: int) -> float:
    """Seconds to wait before retry ``attempt`` (0-based) after a 5xx or a network error."""
    return float(min(2**attempt, 30))


def rate_limit_delay(response: requests.Response, now: float) -> float | None:
    """Seconds GitHub asks us to wait, or ``None`` when ``response`` is not a rate limit.

    GitHub's rules: ``retry-after`` (secondary limits) wins; ``x-ratelimit-remaining: 0``
    means the primary limit, lifted at the epoch second ``x-ratelimit-reset``; a 403 whose
    message mentions a secondary rate limit without ``retry-after`` asks for a minute.
    """
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(float(retry_after), 0.0)
        except ValueError:
            return 60.0
    if headers.get("x-ratelimit-remaining") == "0":
        try:
            return max(float(headers.get("x-ratelimit-reset", "0")) - now, 0.0) + 1.0
        except ValueError:
            return 60.0
    if response.status_code == 429:
        return 60.0
    message, _ = _message(response)
    if "secondary rate limit" in message.lower():
        return 60.0
    return None


class GitHubClient:
    """A ``requests`` session for one GitHub API (github.com or Enterprise Server)."""

    def __init__(
        self,
        api_url: str,
        token: str | None,
        *,
        timeout: float = 10.0,
        max_retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_wait: float = 300.0,
    ) -> None:
        import requests

        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_wait = max_wait
        self._sleep = sleep
        self._clock = clock
        self._token = token or None
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": f"ml-ci/{__version__}",
            }
        )
        parts = urlsplit(self.api_url)
        self._origins = {f"{parts.scheme}://{parts.netloc}"}
        if parts.netloc == "api.github.com":
            self._origins.add("https://uploads.github.com")

    def __repr__(self) -> str:  # never show the token
        return f"GitHubClient({self.api_url!r}, token={'***' if self._token else None})"

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        token: str | None = None,
        require_token: bool = True,
        **options: Any,
    ) -> GitHubClient:
        """Client for ``GITHUB_API_URL`` (default api.github.com) with ``GITHUB_TOKEN``."""
        env = os.environ if env is None else env
        token = token or env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or None
        if token is None and require_token:
            raise InputError(
                "GITHUB_TOKEN is not set; in a workflow add "
                "'env: GITHUB_TOKEN: ${{ github.token }}' to the step"
            )
        api_url = env.get("GITHUB_API_URL") or DEFAULT_API_URL
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in api_url:
            # refuse at once: a retry loop on an unusable URL only waits (31 s) to fail
            raise InputError(
                f"GITHUB_API_URL: {api_url!r} is not an http(s) URL; unset it for github.com, "
                "or set the API of your GitHub Enterprise Server (https://HOST/api/v3)"
            )
        return cls(api_url, token, **options)

    @property
    def has_token(self) -> bool:
        return self._token is not None

    # ------------------------------------------------------------------ requests
    def _url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            parts = urlsplit(path)
            if f"{parts.scheme}://{parts.netloc}" not in self._origins:
                raise GitHubError(
                    f"refusing to send the GitHub token to {parts.scheme}://{parts.netloc} "
                    f"(not the API at {self.api_url})"
                )
            return path
        return self.api_url + "/" + path.lstrip("/")

    def _clean(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send one API call with the retry policy of this module; raise on an error status.

        ``path`` is relative to the API URL, or an absolute URL on the same origin (a
        ``Link`` or ``upload_url``). Returns the 2xx/3xx response.
        """
        import requests

        method = method.upper()
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        url = self._url(path)
        send_headers = dict(headers or {})
        if self._token:
            send_headers["Authorization"] = f"Bearer {self._token}"
        waited = 0.0
        attempt = 0
        where = f"GitHub API {method} {urlsplit(url).path}"
        while True:
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=send_headers,
                    timeout=self.timeout,
                    allow_redirects=method == "GET",
                )
            except requests.RequestException as error:
                # a connection that never opened is safe to retry even for a POST
                never_sent = isinstance(error, requests.ConnectTimeout) or (
                    isinstance(error, requests.ConnectionError)
                    and "NewConnectionError" in repr(error)
                )
                problem = f"{type(error).__name__}"
                if not safe and not never_sent:
                    raise WriteUnconfirmed(
                        f"{where}: the answer was lost ({problem}); the write may have happened"
                    ) from None
                if attempt >= self.max_retries:
                    raise GitHubError(
                        f"{where}: no answer after {attempt + 1} attempts ({problem}); "
                        f"check that {self.api_url} is reachable"
                    ) from None
                waited = self._wait(backoff_delay(attempt), waited, where)
                attempt += 1
                continue

            status = response.status_code
            if status < 400:
                return response
            delay = rate_limit_delay(response, self._clock())
            if delay is not None:
                # GitHub refused the call without acting on it: safe to repeat any method
                if attempt >= self.max_retries or waited + delay > self.max_wait:
                    raise RateLimited(
                        f"{where}: GitHub rate limit; it lifts in {delay:.0f} s, longer than "
                        f"ml-ci waits ({self.max_wait:.0f} s in all); rerun the job later",
                        status,
                    ) from None
                waited = self._wait(delay, waited, where)
                attempt += 1
                continue
            if status >= 500:
                if not safe:
                    raise WriteUnconfirmed(
                        f"{where}: GitHub answered {status}; the write may have happened", status
                    )
                if attempt < self.max_retries:
                    waited = self._wait(backoff_delay(attempt), waited, where)
                    attempt += 1
                    continue
            raise self._error(where, response)

    def _wait(self, delay: float, waited: float, where: str) -> float:
        if waited + delay > self.max_wait:
            raise GitHubError(
                f"{where}: gave up after waiting {waited:.0f} s for GitHub to recover; rerun the job"
            )
        self._sleep(delay)
        return waited + delay

    def _error(self, where: str, response: requests.Response) -> GitHubError:
        status = response.status_code
        message, errors = _message(response)
        text = self._clean(f"{where}: {status} {message}")
        if status == 401:
            return GitHubError(
                f"{text}; the token is invalid or expired: check GITHUB_TOKEN", status
            )
        if status == 403 and NOT_ACCESSIBLE.lower() in message.lower():
            return Forbidden(f"{text}; {FORK_TOKEN_HELP}", status)
        if status == 403:
            return Forbidden(f"{text}; check the workflow's 'permissions:' block", status)
        if status == 404:
            return NotFound(
                f"{text}; check the repository and number, and that the token can see them",
                status,
            )
        if status == 422:
            return Unprocessable(text, status, errors)
        return GitHubError(text, status)

    # ------------------------------------------------------------------ helpers
    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``path`` and return the decoded JSON body."""
        return self.request("GET", path, params=params).json()

    def paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Yield every item of a list endpoint, 100 per page, following ``Link: rel="next"``."""
        query: dict[str, Any] | None = {**(params or {}), "per_page": 100}
        url: str | None = path
        while url is not None:
            response = self.request("GET", url, params=query)
            body = response.json()
            if isinstance(body, dict):
                # a few endpoints wrap the list: {"total_count": n, "<things>": [...]}
                lists = [v for v in body.values() if isinstance(v, list)]
                body = lists[0] if lists else []
            yield from body
            url = response.links.get("next", {}).get("url")
            query = None  # the next link carries the query

    def close(self) -> None:
        self.session.close()


__all__ = [
    "DEFAULT_API_URL",
    "Forbidden",
    "GitHubClient",
    "GitHubError",
    "NotFound",
    "RateLimited",
    "Unprocessable",
    "WriteUnconfirmed",
    "backoff_delay",
    "cli_client",
    "rate_limit_delay",
]


def cli_client(**options: Any) -> GitHubClient:
    """:meth:`GitHubClient.from_env` for a command.

    Nothing is printed: the Actions runner already masks every secret it was given (so
    ``::add-mask::<token>`` adds no protection), and printing it put the token into
    ``--json`` output and into any file stdout was redirected to.
    """
    return GitHubClient.from_env(**options)
