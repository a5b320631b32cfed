"""HTML → PDF: the one place that imports WeasyPrint.

Templates set ``font-family: "Noto Sans CJK SC"`` (Debian's fonts-noto-cjk);
WeasyPrint embeds the subset of glyphs used, so Chinese text stays extractable.
"""

from django.conf import settings
from django.template.loader import render_to_string


def render_pdf(template_name: str, context: dict) -> bytes:
    from weasyprint import HTML  # imported lazily: loading Pango costs ~0.3 s

    html = render_to_string(template_name, context)
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()


def qr_svg_data_uri(payload: str) -> str:
    """A QR code as an inline SVG data URI, for PDFs and pages alike."""
    import segno

    return segno.make(payload, error="m").svg_data_uri(scale=4, border=2)
