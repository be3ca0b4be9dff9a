"""GET / (issue 20 §5): a small page linking the portal and the API documentation (and the demo's
apps under `latchkey demo`) with the portal's headers, no inline script or style; a JSON client
gets the same links as JSON. It was a JSON 404 before."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient

from latchkey.api.app import create_app
from latchkey.api.home import Link, show_demo
from latchkey.api.portal.http import CSP
from latchkey.config import Settings
from latchkey.runtime import Runtime

HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
def sqlite_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from latchkey.store import migrate
    from latchkey.store.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('home') / 'home.db'}")
    migrate.upgrade(engine)
    app = create_app(Runtime(engine=engine, master_key=bytes(32)), Settings(mail_mode="off"))
    try:
        with TestClient(app) as client:
            yield client
    finally:
        engine.dispose()


def test_the_root_is_a_page_linking_the_portal_and_the_docs(sqlite_client: TestClient) -> None:
    answer = sqlite_client.get("/", headers=HTML)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-security-policy"] == CSP
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "no-store"
    links = re.findall(r'href="([^"]+)"', answer.text)
    assert links == [
        "/favicon.svg", "/static/portal/portal.css", "/portal/login", "/openapi.json", "/health"
    ]  # fmt: skip
    assert 'id="demo-links"' not in answer.text  # not under `latchkey demo`
    assert "admin create --name" in answer.text
    # Nothing the CSP would refuse: no inline script, style or handler.
    assert "<script" not in answer.text
    assert "<style" not in answer.text
    assert not re.search(r"\s(style|on\w+)=", answer.text)


def test_a_json_client_gets_the_links_as_json(sqlite_client: TestClient) -> None:
    answer = sqlite_client.get("/", headers={"accept": "application/json"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["service"] == "latchkey"
    assert body["links"] == {
        "Operator portal": "/portal/login",
        "API reference": "/openapi.json",
        "Health": "/health",
    }


def test_other_unknown_paths_are_still_json_404s(sqlite_client: TestClient) -> None:
    answer = sqlite_client.get("/nowhere", headers=HTML)
    assert answer.status_code == 404
    assert answer.json()["error"] == "not_found"


def test_under_the_demo_the_page_lists_its_apps_first(sqlite_client: TestClient) -> None:
    app = sqlite_client.app
    show_demo(app, [Link("Demo web app", "http://localhost:5002", "add a passkey")])
    answer = sqlite_client.get("/", headers=HTML)
    links = re.findall(r'href="([^"]+)"', answer.text)
    assert links[2:4] == ["http://localhost:5002", "/portal/login"]
    as_json = sqlite_client.get("/", headers={"accept": "application/json"}).json()
    assert as_json["links"]["Demo web app"] == "http://localhost:5002"
