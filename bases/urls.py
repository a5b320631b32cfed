from django.urls import path

from bases import views

urlpatterns = [
    path("", views.base_directory, name="base-directory"),
    path("mine/", views.operator_bases, name="operator-bases"),
    path("new/", views.base_create_page, name="base-create"),
    path("certification/", views.certification_queue, name="certification-queue"),
    path("<int:base_id>/", views.base_page, name="base-page"),
    path("<int:base_id>/edit/", views.base_edit_page, name="base-edit"),
    path("<int:base_id>/calendar/", views.inventory_calendar, name="inventory-calendar"),
    path("<int:base_id>/certification/", views.certification_action, name="certification-action"),
    path("routes/", views.route_directory, name="route-directory"),
    path("routes/mine/", views.operator_routes, name="operator-routes"),
    path("routes/new/", views.route_create_page, name="route-create"),
    path("routes/<int:route_id>/", views.route_page, name="route-page"),
    path("routes/<int:route_id>/edit/", views.route_edit_page, name="route-edit"),
    path("routes/<int:route_id>/publish/", views.route_publish_action, name="route-publish"),
    path("routes/<int:route_id>/departures/", views.route_departures_page, name="route-departures"),
]
