"""The OpenAPI 3.1 document, built from the registered endpoints themselves."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, Field
from pydantic.json_schema import models_json_schema

from web.api.registry import Endpoint


class ErrorField(BaseModel):
    """One problem; import refusals add ``row``, ``column`` and ``code``, clashes what clashed."""

    field: str = ""
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[ErrorField] = []


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx answer of the API has this shape; ``message`` is in the user's language."""

    error: ErrorBody


class SuggestedTime(BaseModel):
    """A time at which the whole check fits (China time)."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime


class ClashBody(ErrorBody):
    """A refusal of a booking or a hold; a clash (``code`` ``conflict``) also offers times."""

    suggestions: list[SuggestedTime] = Field(
        default=[],
        description="The nearest times at which the whole check fits, in time order (at most three; "
        "empty when none fits before the campaign's deadline); only with a clash",
    )


class ClashResponse(BaseModel):
    """The 409 of booking, moving and holding: the error, and for a clash the nearest free times."""

    error: ClashBody


def _placeholders(path: str) -> list[tuple[int, int, str, str]]:
    """The ``{name}`` / ``{name:regex}`` placeholders of an aiohttp path (regexes may hold braces)."""
    found = []
    depth, start = 0, -1
    for index, char in enumerate(path):
        if char == "{":
            if depth == 0:
                start = index
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                name, _, pattern = path[start + 1 : index].partition(":")
                found.append((start, index + 1, name, pattern))
    return found


def openapi_path(path: str) -> tuple[str, list[dict[str, Any]]]:
    """``/api/x/{id:\\d+}`` becomes ``/api/x/{id}`` with an integer path parameter."""
    params = []
    pieces = []
    last = 0
    for start, end, name, pattern in _placeholders(path):
        integer = pattern.strip() in (r"\d+", "[0-9]+")
        schema: dict[str, Any] = {"type": "integer"} if integer else {"type": "string"}
        if pattern and not integer:
            schema["pattern"] = f"^{pattern}$"
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
        pieces.append(path[last:start] + "{" + name + "}")
        last = end
    pieces.append(path[last:])
    return "".join(pieces), params


def build_document(endpoints: list[Endpoint], title: str, version: str) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorResponse}
    for ep in endpoints:
        for model in (ep.body_model, ep.response_model, ep.query_model, ep.conflict_model):
            if model is not None:
                models.add(model)
    keyed = [
        (m, "validation" if m is not None else "serialization")
        for m in sorted(models, key=lambda m: m.__name__)
    ]
    _, defs = models_json_schema(keyed, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
    schemas: dict[str, Any] = defs.get("$defs", {})

    paths: dict[str, dict[str, Any]] = {}
    for ep in endpoints:
        path, params = openapi_path(ep.path)
        if ep.query_model is not None:
            query_schema = schemas[ep.query_model.__name__]
            required = set(query_schema.get("required", []))
            for name, prop in query_schema.get("properties", {}).items():
                params.append({"name": name, "in": "query", "required": name in required, "schema": prop})
        operation: dict[str, Any] = {
            "operationId": ep.name,
            "summary": ep.summary,
            "tags": ep.tags,
            "parameters": params,
            "responses": _responses(ep),
        }
        if ep.permission is not None:
            operation["x-permission"] = str(ep.permission)
        if ep.public:
            operation["security"] = []
        if ep.upload_field is not None:
            upload = {
                "type": "object",
                "required": [ep.upload_field],
                "properties": {
                    ep.upload_field: {"type": "string", "contentMediaType": "application/octet-stream"}
                },
            }
            operation["requestBody"] = {
                "required": True,
                "content": {"multipart/form-data": {"schema": upload}},
            }
        if ep.body_model is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{ep.body_model.__name__}"}}
                },
            }
        paths.setdefault(path, {})[ep.method.lower()] = operation

    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": "rc_session"}},
        },
        "security": [{"session": []}],
    }


def _responses(ep: Endpoint) -> dict[str, Any]:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}
    responses: dict[str, Any] = {}
    if ep.produces != "application/json":
        responses[str(ep.status)] = {
            "description": "OK",
            "content": {ep.produces: {"schema": {"type": "string"}}},
        }
    elif ep.response_model is None:
        responses[str(ep.status)] = {"description": "OK"}
    else:
        responses[str(ep.status)] = {
            "description": "OK",
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{ep.response_model.__name__}"}}
            },
        }
    codes = [
        ("400", "Bad request"),
        ("401", "Not signed in"),
        ("403", "Forbidden"),
        ("404", "Not found"),
        ("409", "Conflict"),
        ("422", "Invalid input"),
        ("429", "Too many requests"),
        ("500", "Internal error (logged)"),
    ]
    if ep.body_model is not None or ep.upload_field is not None:
        codes += [("413", "Request body too large"), ("415", "Unsupported content type")]
    for code, text in sorted(codes):
        responses[code] = {"description": text, "content": error}
    if ep.conflict_model is not None:
        schema = {"$ref": f"#/components/schemas/{ep.conflict_model.__name__}"}
        responses["409"] = {"description": "Conflict", "content": {"application/json": {"schema": schema}}}
    if ep.rate_limited:
        retry_after = {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 1}}
        responses["429"] = {
            "description": "Too many attempts; try again after Retry-After seconds",
            "headers": {"Retry-After": retry_after},
            "content": error,
        }
    if ep.upload_field is not None:
        responses["413"] = {"description": "The file is, or expands to, too much", "content": error}
    return responses
