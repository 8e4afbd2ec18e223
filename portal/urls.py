from django.urls import path

from .views import auth, coverage, home, imports, worklists

app_name = "portal"

urlpatterns = [
    path("", home.home, name="home"),
    path("masuk/", auth.LoginView.as_view(), name="login"),
    path("keluar/", auth.LogoutView.as_view(), name="logout"),
    path("bahasa/", auth.language_switch, name="language"),
    path("cakupan/<str:code>/", coverage.coverage, name="coverage"),
    path("cakupan/<str:code>/cetak/", coverage.recap, name="recap"),
    path("daftar/desa-belum-terlindungi/", worklists.unprotected, name="unprotected"),
    path("impor/", imports.imports, name="imports"),
    path("impor/<int:pk>/", imports.import_result, name="import"),
    path("impor/<int:pk>/tulis/", imports.import_confirm, name="import-confirm"),
]
