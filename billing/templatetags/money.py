"""Money in templates, printed the way the split tables print it (``format_fen``): ¥5,560.00."""

from decimal import Decimal

from django import template

from billing.funding import format_fen, to_fen

register = template.Library()


@register.filter
def yuan(amount: Decimal | int | str | None) -> str:
    """A stored yuan amount (a DecimalField) as "¥12,345.00"; empty for no amount. Never goes through float."""
    if amount is None or amount == "":
        return ""
    if isinstance(amount, int) and not isinstance(amount, bool):
        amount = Decimal(amount)
    return format_fen(to_fen(amount))
