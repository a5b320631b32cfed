from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ItinerariesConfig(AppConfig):
    name = "itineraries"
    verbose_name = _("行程与统筹安排")
