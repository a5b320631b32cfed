from django.contrib.auth import views as auth_views
from django.urls import path

from groups import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.token_page, name="tokens"),
    path("batches/", views.batch_list_page, name="batches"),
    path("batches/<int:batch_id>/", views.batch_page, name="batch-detail"),
    path("batches/<int:batch_id>/availability/", views.availability_page, name="batch-availability"),
    path("bookings/", views.booking_list_page, name="bookings"),
    path("bookings/<int:booking_id>/", views.booking_page, name="booking-detail"),
]
