from django.urls import path

from ebhxh.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("danh-muc/", views.catalog, name="catalog"),
    path("demo-pki/ca.crl", views.demo_crl, name="demo-crl"),
]
