from django.urls import path

from billing import views

urlpatterns = [
    path("", views.programme_list, name="billing-programmes"),
    path("programmes/<int:programme_id>/", views.programme_detail, name="billing-programme"),
    path("programmes/<int:programme_id>/statement.pdf", views.programme_statement, name="billing-programme-statement"),
    path("settlements/", views.settlement_queue, name="billing-settlements"),
    path("settlements/<int:settlement_id>/", views.settlement_detail, name="billing-settlement"),
    path("settlements/<int:settlement_id>/pdf", views.settlement_pdf, name="billing-settlement-pdf"),
    path("bookings/<int:booking_id>/settle/", views.settlement_submit, name="billing-settlement-submit"),
    path("bookings/<int:booking_id>/cost-split/", views.cost_split, name="billing-cost-split"),
    path("statements/", views.statements, name="billing-statements"),
    path("statements/bases/<int:base_id>.pdf", views.base_statement, name="billing-base-statement"),
    path("statements/export.xlsx", views.export, {"file_format": "xlsx"}, name="billing-export-xlsx"),
    path("statements/export.csv", views.export, {"file_format": "csv"}, name="billing-export-csv"),
    path("month-batches/", views.month_batch_start, name="billing-month-batch-start"),
    path("month-batches/<int:batch_id>/", views.month_batch_detail, name="billing-month-batch"),
    path("month-batches/<int:batch_id>/download", views.month_batch_download, name="billing-month-batch-download"),
    path("verify/<str:token>/", views.verify, name="billing-verify"),
]
