"""HTML → PDF: the one place that imports WeasyPrint.

Templates set ``font-family: "Noto Sans CJK SC"`` (Debian's fonts-noto-cjk);
WeasyPrint embeds the subset of glyphs used, so Chinese text stays extractable.

WeasyPrint's time grows with the number of boxes (each table cell is a box,
a line and a text run). It allocates millions of short-lived objects on the way,
so the cyclic garbage collector keeps rescanning an ever larger heap: pausing
it while a document is rendered cuts about a fifth of the CPU time of a
300-person settlement (bench/RESULTS_settlement.md). The pause is counted, so
concurrent renders in one process (gunicorn threads) switch it back on only
when the last one finishes, and never if it was off to begin with.
"""

import gc
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager

from django.conf import settings
from django.template.loader import render_to_string

_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextmanager
def _gc_paused():
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def html_to_pdf(html: str) -> bytes:
    return _write_pdf(html, str(settings.BASE_DIR))


def _write_pdf(html: str, base_url: str) -> bytes:
    from weasyprint import HTML  # imported lazily: loading Pango costs ~0.3 s

    with _gc_paused():
        return HTML(string=html, base_url=base_url).write_pdf()


# Below this many documents a pool's start-up (≈ 1 s per process) costs more than it saves.
PARALLEL_MIN_DOCUMENTS = 8


def render_processes() -> int:
    """How many processes a batch of PDFs may use: ``settings.PDF_RENDER_PROCESSES``, else the cores (at most 4)."""
    return max(1, settings.PDF_RENDER_PROCESSES or min(os.cpu_count() or 1, 4))


def _is_daemon() -> bool:
    """A daemonic process (a Celery prefork child) may not start processes: render in it instead."""
    if multiprocessing.current_process().daemon:
        return True
    try:
        import billiard
    except ImportError:
        return False
    return bool(billiard.current_process().daemon)


def html_to_pdf_many(htmls: Iterable[str], *, processes: int | None = None, expected: int | None = None) -> Iterator[bytes]:
    """PDFs of many HTML documents, in order, rendered by up to ``processes`` processes.

    WeasyPrint is single-threaded and CPU-bound, so a month of settlements renders on
    every core this way. The HTML is produced lazily by the caller (database reads stay
    in this process) and at most two documents per process are in flight, so memory stays
    bounded and each result is yielded as soon as it and all before it are done (progress).
    The children are started by ``forkserver``: they inherit no database connection, lock
    or thread of this process, and touch nothing but WeasyPrint.
    """
    processes = render_processes() if processes is None else processes
    if processes <= 1 or (expected is not None and expected < PARALLEL_MIN_DOCUMENTS) or _is_daemon():
        yield from (html_to_pdf(html) for html in htmls)
        return
    base_url = str(settings.BASE_DIR)
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        in_flight = deque()
        for html in htmls:
            in_flight.append(pool.submit(_write_pdf, html, base_url))
            if len(in_flight) >= 2 * processes:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()


def render_pdf(template_name: str, context: dict) -> bytes:
    return html_to_pdf(render_to_string(template_name, context))


def qr_svg_data_uri(payload: str) -> str:
    """A QR code as an inline SVG data URI, for PDFs and pages alike."""
    import segno

    return segno.make(payload, error="m").svg_data_uri(scale=4, border=2)
