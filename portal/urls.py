from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("masuk/", views.LoginView.as_view(), name="login"),
    path("keluar/", views.LogoutView.as_view(), name="logout"),
    path("bahasa/", views.language_switch, name="language"),
    path("cakupan/<str:code>/", views.coverage, name="coverage"),
    path("daftar/desa-belum-terlindungi/", views.unprotected, name="unprotected"),
]
