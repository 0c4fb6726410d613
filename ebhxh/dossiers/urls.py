from django.urls import path

from ebhxh.dossiers import views

app_name = "dossiers"
urlpatterns = [
    path("don-vi/ho-so/", views.dossier_list, name="list"),
    path("don-vi/ho-so/nop-tep/", views.upload, name="upload"),
    path("don-vi/ho-so/soan/", views.draft_new, name="draft_new"),
    path("don-vi/ho-so/soan/<int:pk>/", views.compose, name="compose"),
    path("don-vi/ho-so/soan/<int:pk>/dong/them/", views.row_edit, name="row_add"),
    path("don-vi/ho-so/soan/<int:pk>/dong/<int:index>/", views.row_edit, name="row_edit"),
    path("don-vi/ho-so/soan/<int:pk>/dong/<int:index>/xoa/", views.row_delete, name="row_delete"),
    path("don-vi/ho-so/soan/<int:pk>/danh-sach-lao-dong/", views.registry, name="registry"),
    path("don-vi/ho-so/soan/<int:pk>/tep/", views.attach, name="attach"),
    path("don-vi/ho-so/soan/<int:pk>/tep/<int:index>/xoa/", views.detach, name="detach"),
    path("don-vi/ho-so/soan/<int:pk>/trinh-ky/", views.ready, name="ready"),
    path("don-vi/ho-so/soan/<int:pk>/tra-lai/", views.reopen, name="reopen"),
    path("don-vi/ho-so/soan/<int:pk>/xoa/", views.draft_delete, name="draft_delete"),
    path("don-vi/ho-so/soan/<int:pk>/ky/", views.sign, name="sign"),
    path("don-vi/ho-so/soan/<int:pk>/chung-thu/", views.sign_certificate, name="certificate"),
    path("don-vi/ho-so/soan/<int:pk>/da-ky/", views.sign_signed, name="signed"),
    path("don-vi/ho-so/soan/<int:pk>/xac-nhan/", views.code, name="code"),
    path("don-vi/ho-so/<uuid:tracking_id>/", views.dossier_detail, name="detail"),
    path("don-vi/ho-so/<uuid:tracking_id>/rut/", views.withdraw, name="withdraw"),
    path("don-vi/ho-so/<uuid:tracking_id>/tin-nhan/", views.message, name="message"),
    path(
        "don-vi/ho-so/<uuid:tracking_id>/phieu-giao-nhan.xml",
        views.receipt_xml,
        name="receipt_xml",
    ),
    path(
        "don-vi/ho-so/<uuid:tracking_id>/phieu-giao-nhan.pdf",
        views.receipt_pdf,
        name="receipt_pdf",
    ),
    path("don-vi/ho-so/<uuid:tracking_id>/bang-chung.zip", views.evidence, name="evidence"),
    path("don-vi/ho-so/<uuid:tracking_id>/ket-qua.xml", views.result_xml, name="result_xml"),
    path("don-vi/ho-so/<uuid:tracking_id>/ket-qua.pdf", views.result_pdf, name="result_pdf"),
    path(
        "don-vi/ho-so/<uuid:tracking_id>/ket-qua/<str:name>",
        views.result_document,
        name="result_document",
    ),
]
