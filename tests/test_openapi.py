"""The OpenAPI document is what payroll and I-VAN vendors build against: any change to it must be
deliberate. The committed copy in docs/api/openapi.json is compared with the one served."""

import json
from pathlib import Path

from django.test import Client

SNAPSHOT = Path(__file__).resolve().parent.parent / "docs" / "api" / "openapi.json"


def test_the_served_openapi_document_matches_the_committed_snapshot(db):
    served = Client().get("/api/v1/openapi.json").json()
    committed = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert served == committed, "API changed: run `make openapi` and review docs/api/openapi.json"


def test_the_api_docs_page_uses_local_assets_only(db):
    html = Client().get("/api/v1/docs").content.decode()
    assert "cdn." not in html and "unpkg" not in html
    assert "/static/ninja/" in html
