from django.urls import path

from miniapp.accounts import apis, views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("me/", views.me, name="me"),
    path("me/settings/", views.settings_update, name="me-settings"),
    path("api/me/", apis.MeApi.as_view(), name="api-me"),
    path("api/friends/", apis.FriendsApi.as_view(), name="api-friends"),
]
