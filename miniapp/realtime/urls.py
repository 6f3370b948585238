from django.urls import path

from miniapp.realtime import views

urlpatterns = [
    path("friends/", views.friends_feed, name="friends"),
]
