from django.urls import path

from itineraries import planning_views as views

urlpatterns = [
    path("", views.round_list, name="planning-rounds"),
    path("new/", views.round_create, name="planning-round-create"),
    path("<int:round_id>/", views.round_page, name="planning-round"),
    path("<int:round_id>/action/", views.round_action, name="planning-round-action"),
    path("<int:round_id>/requests/", views.request_submit, name="planning-request-submit"),
    path("requests/<int:request_id>/answer/", views.request_answer, name="planning-request-answer"),
]
