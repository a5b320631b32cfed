from django.urls import path

from itineraries import views

urlpatterns = [
    path("scan/", views.scan_page, name="arrival-scan"),
    path("arrivals/", views.arrivals_today, name="arrivals-today"),
    path("arrivals/stats/", views.arrival_stats, name="arrival-stats"),
    path("bookings/<str:reference>/", views.itinerary_page, name="itinerary"),
    path("bookings/<str:reference>/itinerary.pdf", views.itinerary_pdf_download, name="itinerary-pdf"),
    path("bookings/<str:reference>/itinerary.ics", views.itinerary_ics_download, name="itinerary-ics"),
    path("bookings/<str:reference>/arrivals/", views.booking_arrivals, name="booking-arrivals"),
]
