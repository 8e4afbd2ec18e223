from django.urls import path

from core.codes import register_region_converter

from .views import auth, coverage, exports, home, imports, reconciliations, workers, worklists

app_name = "portal"
register_region_converter()  # `<region:code>`: `1508` or `15.08`, given to the page dotted (core.codes)

urlpatterns = [
    path("", home.home, name="home"),
    path("masuk/", auth.LoginView.as_view(), name="login"),
    path("keluar/", auth.LogoutView.as_view(), name="logout"),
    path("bahasa/", auth.language_switch, name="language"),
    path("cakupan/<region:code>/", coverage.coverage, name="coverage"),
    path("cakupan/<region:code>/cetak/", coverage.recap, name="recap"),
    path("daftar/desa-belum-terlindungi/", worklists.unprotected, name="unprotected"),
    path("daftar/menunggu-aktivasi/", worklists.activation_queue, name="activation_queue"),
    path("daftar/jatuh-tempo/", worklists.renewals, name="renewals"),
    path("daftar/masa-jabatan-berakhir/", worklists.terms_ended, name="terms_ended"),
    path("impor/", imports.imports, name="imports"),
    path("impor/<int:pk>/", imports.import_result, name="import"),
    path("impor/<int:pk>/tulis/", imports.import_confirm, name="import-confirm"),
    path("impor/proses/<int:pk>/", imports.import_job, name="import-job"),
    path("impor/proses/<int:pk>/kemajuan/", imports.import_job_progress, name="import-job-progress"),
    path("unduhan/<int:pk>/", exports.export_job, name="export-job"),
    path("unduhan/<int:pk>/kemajuan/", exports.export_job_progress, name="export-job-progress"),
    path("pekerja/", workers.workers, name="workers"),
    path("pekerja/baru/", workers.worker_new, name="worker_new"),
    path("pekerja/desa/", workers.village_options, name="village_options"),
    path("pekerja/<int:pk>/", workers.worker, name="worker"),
    path("pekerja/<int:pk>/ubah/", workers.worker_edit, name="worker_edit"),
    path("pekerja/<int:pk>/ajukan/", workers.worker_submit, name="worker_submit"),
    path("pekerja/<int:pk>/aktifkan/", workers.worker_activate, name="worker_activate"),
    path("pekerja/<int:pk>/perpanjang/", workers.worker_renew, name="worker_renew"),
    path("pekerja/<int:pk>/nonaktifkan/", workers.worker_lapse, name="worker_lapse"),
    path("pekerja/<int:pk>/akhiri-tugas/", workers.worker_end_service, name="worker_end_service"),
    path("rekonsiliasi/", reconciliations.reconciliations, name="reconciliations"),
    path("rekonsiliasi/<int:pk>/", reconciliations.reconciliation, name="reconciliation"),
    path("rekonsiliasi/<int:pk>/terima/", reconciliations.reconciliation_apply, name="reconciliation_apply"),
    path("rekonsiliasi/<int:pk>/tolak/", reconciliations.reconciliation_reject, name="reconciliation_reject"),
]
