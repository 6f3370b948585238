from django.urls import path

from miniapp.videos import views

urlpatterns = [
    path("", views.home, name="home"),
]
