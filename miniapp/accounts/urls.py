from allauth.socialaccount.providers.openid_connect import views as oidc_views
from django.urls import path

from miniapp.accounts import apis, views

urlpatterns = [
    # The one URL of allauth's that is mounted: the provider's callback. Sign-in starts at
    # /login/ and is through the provider only; `allauth.urls` would add local sign-in,
    # sign-up, password and e-mail pages, and a second sign-in start.
    path(
        "accounts/oidc/<str:provider_id>/login/callback/",
        oidc_views.callback,
        name="openid_connect_callback",
    ),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("me/", views.me, name="me"),
    path("me/settings/", views.settings_update, name="me-settings"),
    path("api/me/", apis.MeApi.as_view(), name="api-me"),
    path("api/friends/", apis.FriendsApi.as_view(), name="api-friends"),
]
