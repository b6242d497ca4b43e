"""The OpenAPI document: valid 3.1, the same routes as the server, and true to real responses."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from pydantic import BaseModel

from remote_check.accounts.models import Role
from remote_check.accounts.schemas import MeResponse, UserList
from remote_check.audit.schemas import AuditPage, VerifyReport
from remote_check.database import transaction
from remote_check.programme.schemas import CityList, ProjectDetail, ProjectPage
from remote_check.settings import Settings
from tests.browse_factories import small_world
from tests.web_helpers import Browser, WebServer
from web.api.openapi import ErrorResponse
from web.app import create_app

DOCUMENT = "/api/openapi.json"
_TEMPLATE_PARAM = re.compile(r"{([^}]+)}")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[web.Application, dict[str, Any]]]:
    """The real app (no database is touched) and the document it serves."""
    app = create_app(Settings(data_dir=tmp_path))
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get(DOCUMENT)
        assert response.status == 200
        yield app, await response.json()


async def test_the_document_is_valid_openapi_3_1(served: tuple[web.Application, dict[str, Any]]) -> None:
    _, document = served
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on the first violation of the OpenAPI 3.1 specification
    text = json.dumps(document)
    known = {f"#/components/schemas/{name}" for name in document["components"]["schemas"]}
    dangling = set(re.findall(r'"\$ref": "([^"]+)"', text)) - known
    assert dangling == set(), "references that point nowhere"


async def test_every_api_route_is_documented_and_nothing_more(
    served: tuple[web.Application, dict[str, Any]],
) -> None:
    app, document = served
    routed = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/")
        and route.resource.canonical != DOCUMENT
    }
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert routed - documented == set(), "served but not documented"
    assert documented - routed == set(), "documented but not served"


async def test_operations_are_unique_and_declare_their_path_parameters(
    served: tuple[web.Application, dict[str, Any]],
) -> None:
    _, document = served
    operation_ids: list[str] = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            operation_ids.append(operation["operationId"])
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == set(_TEMPLATE_PARAM.findall(path)), f"{method.upper()} {path}"
            assert any(code.startswith("2") for code in operation["responses"]), f"{method.upper()} {path}"
    assert len(operation_ids) == len(set(operation_ids)), "duplicate operationId"


def _schema_of(document: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    content = document["paths"][path][method]["responses"][status]["content"]
    schema: dict[str, Any] = content["application/json"]["schema"]
    return {**schema, "components": document["components"]}


async def _check(
    browser: Browser,
    document: dict[str, Any],
    url: str,
    path: str,
    model: type[BaseModel],
    status: int = 200,
) -> dict[str, Any]:
    response = await browser.get(url)
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    OAS31Validator(_schema_of(document, path, "get", str(status))).validate(body)
    # The pydantic response model reads it back to the very same JSON: nothing extra, nothing lost.
    assert json.loads(model.model_validate(body).model_dump_json()) == body
    return body


async def test_real_responses_match_the_documented_schemas(server: WebServer) -> None:
    async with transaction(server.db.factory) as session:
        world = await small_world(session)
    await server.add_user("admin", Role.PROVINCE_ADMIN)
    admin = await server.signed_in("admin")
    document = await (await admin.get(DOCUMENT)).json()

    page = await _check(admin, document, "/api/projects?page_size=2", "/api/projects", ProjectPage)
    assert page["total"] == 5
    detail = await _check(
        admin, document, f"/api/projects/{world.dongguan[0].id}", "/api/projects/{id}", ProjectDetail
    )
    assert detail["price_ratio"] == "1.6000"
    await _check(admin, document, "/api/cities", "/api/cities", CityList)
    audit = await _check(admin, document, "/api/audit", "/api/audit", AuditPage)
    assert audit["items"][0]["action"] == "auth.login"
    await _check(admin, document, "/api/audit/verify", "/api/audit/verify", VerifyReport)
    await _check(admin, document, "/api/me", "/api/me", MeResponse)
    await _check(admin, document, "/api/users", "/api/users", UserList)

    missing = await _check(admin, document, "/api/projects/999999", "/api/projects/{id}", ErrorResponse, 404)
    assert missing["error"]["code"] == "not_found"
    invalid = await _check(admin, document, "/api/projects?page=0", "/api/projects", ErrorResponse, 422)
    assert invalid["error"]["fields"][0]["field"] == "page"


async def test_every_operation_documents_the_errors_it_can_answer(
    served: tuple[web.Application, dict[str, Any]],
) -> None:
    _, document = served
    for path, item in document["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert {"400", "401", "403", "404", "422", "429", "500"} <= codes, f"{method.upper()} {path}"
            if "requestBody" in operation:
                assert {"413", "415"} <= codes, f"{method.upper()} {path}"
