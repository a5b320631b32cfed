"""What the server-rendered pages share: application errors shown as pages."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render

from retreat.errors import ApplicationError, Forbidden, NotFound, ValidationFailed
from retreat.parsers import NUL, NUL_MESSAGE


def check_no_nul(request, kwargs) -> None:
    """PostgreSQL cannot hold a NUL (0x00) in text: refuse it in the address or the form before anything runs."""
    values = [*kwargs.values()]
    for query in (request.GET, request.POST):
        for key, items in query.lists():
            values += [key, *items]
    if any(isinstance(value, str) and NUL in value for value in values):
        raise ValidationFailed(NUL_MESSAGE, code="nul_character")


def refused_page(request, error: ApplicationError):
    return render(request, "refused.html", {"error": error}, status=error.status)


def application_errors_as_pages(view):
    """NotFound is a 404, Forbidden a 403; any other refusal (input the database cannot hold, say) is a page
    saying why, with its status."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            check_no_nul(request, kwargs)
            return view(request, *args, **kwargs)
        except NotFound as error:
            raise Http404(error.message) from error
        except Forbidden as error:
            raise PermissionDenied(error.message) from error
        except ApplicationError as error:  # anything a view did not show itself (the NUL check, a refused read)
            return refused_page(request, error)

    return wrapped
