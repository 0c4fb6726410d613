from django.urls import path

from ebhxh.registrations import views

app_name = "registrations"
urlpatterns = [
    path("dang-ky/", views.start, name="start"),
    path("dang-ky/to-khai/", views.register, name="register"),
    path("dang-ky/tra-cuu/", views.lookup, name="lookup"),
    path("dang-ky/<str:reference>/ky/", views.sign, name="sign"),
    path("dang-ky/<str:reference>/chung-thu/", views.certificate, name="certificate"),
    path("dang-ky/<str:reference>/da-ky/", views.signed, name="signed"),
    path("dang-ky/<str:reference>/to-khai.xml", views.document, name="document"),
    path("dang-ky/<str:reference>/xac-nhan/", views.code, name="code"),
    path("dang-ky/<str:reference>/da-gui/", views.done, name="done"),
    path("don-vi/dang-ky/", views.unit_registration, name="unit"),
    path("don-vi/dang-ky/thay-doi/", views.change, name="change"),
    path("don-vi/dang-ky/ngung/", views.stop, name="stop"),
    path("tep/dang-ky/<str:reference>/<str:name>", views.download, name="download"),
    path("co-quan/dang-ky/", views.agency_queue, name="agency_queue"),
    path("co-quan/dang-ky/ts24/", views.legacy_report, name="legacy_report"),
    path("co-quan/dang-ky/<str:reference>/", views.agency_detail, name="agency_detail"),
]
