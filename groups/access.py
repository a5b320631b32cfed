"""Who is acting, and what they may see: the one place tenancy is decided.

Selectors and services take an ``Actor`` and scope every query through the
helpers here, so another tenant's object is simply not found (a 404), whichever
front end asked.
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from groups.models import Membership, Organisation
from retreat.errors import Forbidden

Role = Membership.Role


@dataclass(frozen=True)
class Actor:
    user_id: int
    organisation: Organisation
    role: str

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMINISTRATOR

    @property
    def is_operator(self) -> bool:
        return self.role == Role.OPERATOR

    @property
    def is_organiser(self) -> bool:
        return self.role == Role.ORGANISER

    @property
    def is_fund_manager(self) -> bool:
        return self.role == Role.FUND_MANAGER

    @property
    def is_province_admin(self) -> bool:
        return self.is_admin and self.organisation.kind == Organisation.Kind.PROVINCE

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(_("当前角色无权执行此操作"), detail={"role": self.role})


def actor_of(user) -> Actor:
    """The acting organisation and role of an authenticated user."""
    try:
        membership = Membership.objects.select_related("organisation").get(user_id=user.pk)
    except Membership.DoesNotExist:
        raise Forbidden(_("该用户未关联任何组织")) from None
    return Actor(user_id=user.pk, organisation=membership.organisation, role=membership.role)


def union_subtree_q(actor: Actor, field: str = "") -> Q:
    """Unions the actor's organisation answers for: itself and everything under it."""
    prefix = f"{field}__" if field else ""
    if not actor.organisation.is_union:
        return Q(pk__in=[])
    return Q(**{f"{prefix}path__startswith": actor.organisation.path})


def visible_unions(actor: Actor) -> QuerySet[Organisation]:
    return Organisation.objects.filter(union_subtree_q(actor)).exclude(kind=Organisation.Kind.OPERATOR)


def administered_region_q(actor: Actor, city_field: str = "city_code") -> Q:
    """Bases an administrator oversees: the whole province, or their own city."""
    if not actor.is_admin:
        return Q(pk__in=[])
    if actor.organisation.kind == Organisation.Kind.PROVINCE:
        return Q()
    return Q(**{city_field: actor.organisation.city_code})
