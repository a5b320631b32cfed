"""The API's request parser: JSON bodies and query strings, refusing NUL characters.

PostgreSQL cannot store a NUL (0x00) in text, so a string carrying one would
otherwise reach the database and fail there as a 500. Refusing it here makes it
a 422 naming the field, for every endpoint, before anything runs.
"""

import json
from typing import Any

from django.utils.translation import gettext_lazy as _
from ninja.errors import ValidationError
from ninja.parser import Parser

NUL = "\x00"
# Lazy (built at import): str() it where a plain str is needed, e.g. anything json.dumps sees.
NUL_MESSAGE = _("不能包含空字符 NUL (0x00)")


def nul_locations(value: Any, loc: tuple = ()) -> list[tuple]:
    """Where in a parsed JSON value (keys included) a string holds a NUL character."""
    if isinstance(value, str):
        return [loc] if NUL in value else []
    if isinstance(value, dict):
        found = []
        for key, item in value.items():
            if isinstance(key, str) and NUL in key:
                found.append((*loc, key))
            found.extend(nul_locations(item, (*loc, key)))
        return found
    if isinstance(value, list):
        return [where for index, item in enumerate(value) for where in nul_locations(item, (*loc, index))]
    return []


def refuse_nul(data: Any, source: str) -> None:
    found = nul_locations(data)
    if found:
        raise ValidationError([{"loc": (source, *where), "msg": str(NUL_MESSAGE), "type": "nul_character"} for where in found])


class RejectingNulParser(Parser):
    def parse_body(self, request):
        data = json.loads(request.body)
        refuse_nul(data, "body")
        return data

    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        refuse_nul(result, "query" if data is request.GET else "form")
        return result
