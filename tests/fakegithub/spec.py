"""Validate requests and responses against GitHub's own OpenAPI description (the subset).

The subset is ``tests/fixtures/github/openapi-subset.json``, cut from ``@octokit/openapi``
23.0.2 by :mod:`tests.fakegithub.cut_openapi`. openapi-core does the validation; this module
adapts the fake server's plain values to its request/response protocols.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

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

    def __post_init__(self) -> None:
        # openapi-core fills ``parameters.path`` in place, so this must be one object
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        self.parameters = RequestParameters(
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
            text += " [" + "; ".join(_schema_error(e) for e in details) + "]"
        elif cause is not None:
            text += f" [{cause}]"
        parts.append(text)
    return " | ".join(parts)


# Path parameters that GitHub lets contain "/" (a ref like tags/v1); openapi-core's template
# matching stops at "/", so they are percent-encoded for validation only.
_GREEDY = (
    re.compile(r"^(/repos/[^/]+/[^/]+/git/(?:matching-refs|ref|refs))/(.+)$"),
    re.compile(r"^(/repos/[^/]+/[^/]+/commits)/(.+)(/status|/statuses|/pulls)$"),
    re.compile(r"^(/repos/[^/]+/[^/]+/releases/tags)/(.+)$"),
)


def _encode_greedy(path: str) -> str:
    for pattern in _GREEDY:
        match = pattern.match(path)
        if match:
            tail = match.group(3) if pattern.groups == 3 else ""
            return f"{match.group(1)}/{quote(match.group(2), safe='')}{tail}"
    return path


def _schema_error(error: Any) -> str:
    """Where and what, without echoing the whole (often huge) value."""
    message = str(error.message)
    if len(message) > 200:
        message = "..." + message[-200:]
    text = f"{error.json_path}: {error.validator}: {message}"
    for sub in list(error.context or [])[:3]:
        text += f" / {sub.json_path}: {str(sub.message)[-150:]}"
    return text


def make_request(
    method: str,
    path: str,
    query: list[tuple[str, str]],
    headers: dict[str, str],
    body: bytes | None,
) -> _Request:
    content_type = headers.get("content-type", "application/json").split(";")[0].strip()
    host = _host_for(method.lower(), path)
    if host == UPLOADS_HOST:
        # GitHub takes the asset's own media type; the description lists only octet-stream
        content_type = "application/octet-stream"
    return _Request(
        host_url=host,
        path=_encode_greedy(path),
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


def validate_response(
    request: _Request, status: int, body: Any, headers: dict[str, str]
) -> str | None:
    """``None`` when ``body`` conforms to the JSON schema the operation declares for ``status``.

    openapi-core rebuilds its validators per call (~40 ms for a rich object), so responses
    use cached ``OAS30Validator`` instances (same library family, OpenAPI 3.0 semantics).
    """
    template = operation_path(request.method, request.path)
    if template is None:
        return f"no operation for {request.method.upper()} {request.path}"
    validator = _response_validator(template, request.method, str(status))
    if validator is None:
        return None if body is None else f"{status} is not a declared JSON response"
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    if errors:
        return "; ".join(_schema_error(e) for e in errors[:3])
    return None


@functools.cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    found = []
    for template in _raw()["paths"]:
        pattern = re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template))
        found.append((re.compile(pattern + "$"), template))
    # literal segments beat parameters (/releases/tags/{tag} over /releases/{release_id})
    found.sort(key=lambda item: item[1].count("{"))
    return found


def operation_path(method: str, path: str) -> str | None:
    """The spec's path template for ``path`` (greedy ref parameters already encoded)."""
    for pattern, template in _templates():
        if pattern.match(path) and method.lower() in _raw()["paths"][template]:
            return template
    return None


@functools.cache
def _response_validator(template: str, method: str, status: str) -> Any:
    from openapi_schema_validator import OAS30Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    responses = _raw()["paths"][template][method]["responses"]
    response = responses.get(status) or responses.get("default")
    if response is None:
        return None
    if "$ref" in response:
        response = _resolve(response["$ref"])
    content = (response.get("content") or {}).get("application/json")
    if content is None:
        return None
    registry: Registry = Registry().with_resource(  # type: ignore[type-arg]
        "urn:github", Resource.from_contents(_raw(), default_specification=DRAFT4)
    )
    schema = _rebase(content["schema"])
    return OAS30Validator(schema, registry=registry)


def _rebase(node: Any) -> Any:
    """Point local ``#/components/...`` refs at the registered spec resource."""
    if isinstance(node, str) and node.startswith("#/components/"):
        return "urn:github" + node  # $ref values and discriminator mappings
    if isinstance(node, dict):
        return {k: _rebase(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v) for v in node]
    return node


def _resolve(ref: str) -> Any:
    node: Any = _raw()
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def example(name: str) -> Any:
    """A deep copy of ``components.examples[name].value`` (GitHub's own example bodies)."""
    spec = _raw()
    return json.loads(json.dumps(spec["components"]["examples"][name]["value"]))


@functools.cache
def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return data
