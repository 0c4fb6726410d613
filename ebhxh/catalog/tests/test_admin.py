from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import RequestFactory

from ebhxh.catalog import models as m

pytestmark = pytest.mark.django_db

CATALOGUE_MODELS = [
    m.Province,
    m.LegacyProvince,
    m.Commune,
    m.Agency,
    m.Form,
    m.Procedure,
    m.ChangeType,
    m.MinimumWage,
    m.ReferenceSalary,
    m.ContributionRate,
    m.IVanProvider,
    m.Ethnicity,
    m.Nationality,
]


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs collectstatic; the admin pages only need URLs.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def admin_request():
    def make(path: str, **params: str):
        request = RequestFactory().get(path, params)
        request.user = get_user_model()(
            username="root", is_staff=True, is_superuser=True, is_active=True
        )
        return request

    return make


@pytest.mark.parametrize("model", CATALOGUE_MODELS, ids=lambda model: model.__name__)
def test_every_catalogue_has_a_working_changelist_and_change_form(admin_request, model):
    model_admin = admin.site._registry[model]
    assert not model_admin.check()

    changelist = model_admin.changelist_view(admin_request("/", q="1"))
    changelist.render()
    assert changelist.status_code == 200

    obj = model.objects.order_by("pk").first()
    change = model_admin.change_view(admin_request("/"), str(obj.pk))
    change.render()
    assert change.status_code == 200


@pytest.mark.parametrize("model", [m.Agency, m.Procedure, m.MinimumWage, m.ContributionRate])
def test_effective_dates_are_shown_and_filterable(model):
    model_admin = admin.site._registry[model]
    assert {"effective_from", "effective_to"} <= set(model_admin.list_display)
    assert {"effective_from", "effective_to"} <= set(model_admin.list_filter)
