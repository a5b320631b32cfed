"""The printable itinerary (PDF), rendered through ``retreat.pdf``, and file downloads."""

from django.http import HttpResponse

from itineraries.builder import Itinerary
from retreat.pdf import qr_svg_data_uri, render_pdf


def itinerary_pdf(itinerary: Itinerary, *, group_code: str) -> bytes:
    return render_pdf(
        "itineraries/itinerary_pdf.html",
        {"itinerary": itinerary, "group_code": group_code, "group_qr": qr_svg_data_uri(group_code)},
    )


def itinerary_filename(itinerary: Itinerary, *, extension: str) -> str:
    return f"itinerary-{itinerary.reference}.{extension}"


def attachment(content: bytes, *, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
