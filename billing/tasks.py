"""Celery tasks of billing: thin wrappers around one service each."""

from celery import shared_task

from billing import services


@shared_task(name="billing.tasks.render_month_batch", queue="billing")
def render_month_batch(batch_id: int) -> int:
    """Render a month's PDFs into a zip; progress and the result are saved on the MonthBatch row."""
    return services.month_batch_render(batch_id=batch_id).pk
