"""The OpenAPI 3.1 document, built from the registered endpoints themselves."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from web.api.registry import Endpoint

_PARAM = re.compile(r"{(\w+)(?::([^}]+))?}")


class ErrorField(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: list[ErrorField] = []


class ErrorResponse(BaseModel):
    """Every 4xx answer of the API has this shape; ``message`` is in the user's language."""

    error: ErrorBody


def openapi_path(path: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for name, pattern in _PARAM.findall(path):
        schema = (
            {"type": "integer"} if pattern and pattern.strip() in (r"\d+", "[0-9]+") else {"type": "string"}
        )
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _PARAM.sub(r"{\1}", path), params


def build_document(endpoints: list[Endpoint], title: str, version: str) -> dict[str, Any]:
    models: set[type[BaseModel]] = {ErrorResponse}
    for ep in endpoints:
        for model in (ep.body_model, ep.response_model):
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
            query_schema = ep.query_model.model_json_schema()
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
    if ep.response_model is None:
        responses[str(ep.status)] = {"description": "OK"}
    else:
        responses[str(ep.status)] = {
            "description": "OK",
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{ep.response_model.__name__}"}}
            },
        }
    for code, text in (
        ("400", "Bad request"),
        ("401", "Not signed in"),
        ("403", "Forbidden"),
        ("404", "Not found"),
        ("409", "Conflict"),
        ("422", "Invalid input"),
    ):
        responses[code] = {"description": text, "content": error}
    return responses
