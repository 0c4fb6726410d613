from django.contrib import admin
from django.urls import include, path

from ebhxh.api.urls import api

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("accounts/", include("ebhxh.accounts.urls")),
    path("", include("ebhxh.registrations.urls")),
    path("", include("ebhxh.dossiers.urls")),
    path("", include("ebhxh.processing.urls")),
    path("", include("ebhxh.web.urls")),
]
