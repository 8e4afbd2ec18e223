from django.urls import path

from .views import auth, coverage, home, worklists

app_name = "portal"

urlpatterns = [
    path("", home.home, name="home"),
    path("masuk/", auth.LoginView.as_view(), name="login"),
    path("keluar/", auth.LogoutView.as_view(), name="logout"),
    path("bahasa/", auth.language_switch, name="language"),
    path("cakupan/<str:code>/", coverage.coverage, name="coverage"),
    path("daftar/desa-belum-terlindungi/", worklists.unprotected, name="unprotected"),
    path("daftar/menunggu-aktivasi/", worklists.activation_queue, name="activation_queue"),
    path("daftar/jatuh-tempo/", worklists.renewals, name="renewals"),
    path("daftar/masa-jabatan-berakhir/", worklists.terms_ended, name="terms_ended"),
]
