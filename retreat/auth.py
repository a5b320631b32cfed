"""API authentication: the web session (with CSRF) or a revocable bearer token."""

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from groups.models import ApiToken


class TokenAuth(HttpBearer):
    def authenticate(self, request, token: str):
        api_token = (
            ApiToken.objects.select_related("user")
            .filter(digest=ApiToken.digest_of(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if api_token is None:
            return None
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=timezone.now())
        request.user = api_token.user
        return api_token.user


api_auth = [TokenAuth(), SessionAuth()]
