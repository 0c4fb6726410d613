"""The JSON API root: every app's router mounted under /api/v1."""

from __future__ import annotations

from ninja import NinjaAPI

from ebhxh.api.me import router as me_router
from ebhxh.catalog.api import router as catalog_router
from ebhxh.dossiers.api import router as dossiers_router
from ebhxh.registrations.api import router as registrations_router

api = NinjaAPI(
    title="ebhxh API",
    version="1",
    description=(
        "API của ebhxh cho phần mềm kế toán, tiền lương và I-VAN. "
        "JSON API of ebhxh for payroll and I-VAN software."
    ),
    urls_namespace="api",
)
api.add_router("/catalog/", catalog_router)
api.add_router("/me", me_router)
api.add_router("/unit/", registrations_router)
api.add_router("/dossiers", dossiers_router)
