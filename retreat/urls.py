from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from ninja.openapi.views import openapi_view

from retreat.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("api/docs", openapi_view, {"api": api}, name="api-docs"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("groups.urls")),
    path("bases/", include("bases.urls")),
    path("itineraries/", include("itineraries.urls")),
    path("planning/", include("itineraries.planning_urls")),
    path("billing/", include("billing.urls")),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
