"""Validate requests and responses against GitHub's own OpenAPI description (the subset).

The subset is ``tests/fixtures/github/openapi-subset.json``, cut from ``@octokit/openapi``
23.0.2 by :mod:`tests.fakegithub.cut_openapi`. openapi-core does the validation; this module
adapts the fake server's plain values to its request/response protocols.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parent.parent / "fixtures" / "github" / "openapi-subset.json"
API_HOST = "https://api.github.com"
UPLOADS_HOST = "https://uploads.github.com"


@functools.cache
def openapi() -> Any:
    """The parsed spec (loaded once per process: about 0.4 s)."""
    from openapi_core import OpenAPI

    return OpenAPI.from_dict(json.loads(SPEC_PATH.read_text(encoding="utf-8")))


@dataclass
class _Request:
    """openapi-core's request protocol over plain values."""

    host_url: str
    path: str
    method: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: bytes | None
    content_type: str

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path

    @property
    def parameters(self) -> Any:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        return RequestParameters(
            query=ImmutableMultiDict(self.query),
            header=Headers(self.headers),
            cookie=ImmutableMultiDict(),
            path={},
        )


@dataclass
class _Response:
    status_code: int
    data: bytes
    content_type: str
    headers: dict[str, str]


def _host_for(method: str, path: str) -> str:
    # the upload operation is declared on uploads.github.com; the fake serves it on one host
    if method == "post" and path.endswith("/assets") and "/releases/" in path:
        return UPLOADS_HOST
    return API_HOST


def _describe(errors: list[Exception]) -> str:
    parts = []
    for error in errors:
        text = f"{type(error).__name__}: {error}"
        cause = error.__cause__
        details = getattr(cause, "schema_errors", None) or getattr(error, "schema_errors", None)
        if details:
            text += " [" + "; ".join(e.message[:300] for e in details) + "]"
        elif cause is not None:
            text += f" [{cause}]"
        parts.append(text)
    return " | ".join(parts)


def make_request(
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: dict[str, str],
    body: bytes | None,
) -> _Request:
    content_type = headers.get("content-type", "application/json").split(";")[0].strip()
    return _Request(
        host_url=_host_for(method.lower(), path),
        path=path,
        method=method.lower(),
        query=query,
        headers=headers,
        body=body if body else None,
        content_type=content_type,
    )


def validate_request(request: _Request) -> str | None:
    """``None`` when the request matches an operation of the spec, else why not."""
    result = openapi().unmarshal_request(request)
    if result.errors:
        return _describe(list(result.errors))
    return None


def validate_response(request: _Request, status: int, body: Any, headers: dict[str, str]) -> str | None:
    """``None`` when the response conforms to the operation's declared response."""
    data = b"" if body is None else json.dumps(body).encode()
    response = _Response(status, data, "application/json" if body is not None else "", headers)
    result = openapi().unmarshal_response(request, response)
    if result.errors:
        return _describe(list(result.errors))
    return None


def example(name: str) -> Any:
    """A deep copy of ``components.examples[name].value`` (GitHub's own example bodies)."""
    spec = _raw()
    return json.loads(json.dumps(spec["components"]["examples"][name]["value"]))


@functools.cache
def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return data
