from django.urls import path

from miniapp.mockwx import views
from miniapp.mockwx.views import wechat as views_wechat

app_name = "mockwx"
urlpatterns = [
    path(".well-known/openid-configuration", views.discovery, name="discovery"),
    path("jwks", views.jwks, name="jwks"),
    path("authorize", views.authorize, name="authorize"),
    path("token", views.token, name="token"),
    path("userinfo", views.userinfo, name="userinfo"),
    path("friends", views.friends, name="friends"),
    path("groups", views.groups, name="groups"),
    path("group-avatar/<str:key>.svg", views.group_avatar, name="group-avatar"),
    path("avatar/<str:unionid>.svg", views.avatar, name="avatar"),
    path("connect/oauth2/authorize", views_wechat.authorize, name="wx-authorize"),
    path("sns/oauth2/access_token", views_wechat.access_token, name="wx-access-token"),
    path("sns/oauth2/refresh_token", views_wechat.refresh_token, name="wx-refresh-token"),
    path("sns/userinfo", views_wechat.userinfo, name="wx-userinfo"),
    path("sns/auth", views_wechat.auth, name="wx-auth"),
]
