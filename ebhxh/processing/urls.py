from django.urls import path

from ebhxh.processing import views

app_name = "processing"
urlpatterns = [
    path("co-quan/ho-so/", views.queue, name="queue"),
    path("co-quan/ho-so/sap-den-han/", views.deadlines, {"kind": "near"}, name="near_due"),
    path("co-quan/ho-so/qua-han/", views.deadlines, {"kind": "overdue"}, name="overdue"),
    path("co-quan/ho-so/<int:pk>/", views.detail, name="detail"),
    path("co-quan/ho-so/<int:pk>/tin-nhan/", views.message, name="message"),
    path("co-quan/ho-so/<int:pk>/tep/<int:index>/", views.attachment, name="attachment"),
    path("co-quan/ho-so/<int:pk>/<slug:slug>/", views.act, name="act"),
]
