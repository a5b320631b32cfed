"""What the server-rendered pages share: application errors shown as pages."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from retreat.errors import ApplicationError, Forbidden, NotFound
from retreat.parsers import NUL


def has_nul(request) -> bool:
    """Whether the address or the form carries a NUL (0x00), which PostgreSQL cannot hold in text."""
    values = [request.path]
    for query in (request.GET, request.POST):
        for key, items in query.lists():
            values += [key, *items]
    return any(NUL in value for value in values)


def refused_page(request, error: ApplicationError):
    return render(request, "refused.html", {"error": error}, status=error.status)


def application_errors_as_pages(view):
    """NotFound is a 404, Forbidden a 403; any other refusal (input the database cannot hold, say) is a page
    saying why, with its status."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from error
        except Forbidden as error:
            raise PermissionDenied(error.message) from error
        except ApplicationError as error:  # anything a view did not show itself (a refused read, say)
            return refused_page(request, error)

    return wrapped
