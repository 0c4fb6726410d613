from django.urls import path

from ebhxh.accounts import members, security, views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("otp/", views.otp_view, name="otp"),
    # One-time set-password links and the public "Quên mật khẩu" form
    path("dat-mat-khau/<uidb64>/<token>/", security.set_password_view, name="set_password"),
    path("quen-mat-khau/", security.password_reset_view, name="password_reset"),
    path("quen-mat-khau/da-gui/", security.password_reset_sent_view, name="password_reset_sent"),
    path("bao-mat/xac-thuc-hai-lop/", security.two_factor_view, name="two_factor"),
    # Unit members and API tokens, for the unit's admins
    path("don-vi/thanh-vien/", members.member_list, name="members"),
    path("don-vi/thanh-vien/moi/", members.member_invite, name="member_invite"),
    path("don-vi/thanh-vien/<int:pk>/", members.member_detail, name="member_detail"),
    path("don-vi/thanh-vien/<int:pk>/khoa/", members.member_deactivate, name="member_deactivate"),
    path(
        "don-vi/thanh-vien/<int:pk>/mo-khoa/",
        members.member_reactivate,
        name="member_reactivate",
    ),
    path(
        "don-vi/thanh-vien/<int:pk>/gui-lai-loi-moi/",
        members.member_resend,
        name="member_resend",
    ),
    path("don-vi/thanh-vien/api-token/", members.api_tokens, name="api_tokens"),
    path(
        "don-vi/thanh-vien/api-token/<int:pk>/thu-hoi/",
        members.api_token_revoke,
        name="api_token_revoke",
    ),
]
