"""Writes for bases: certification lifecycle, base and room-type data, nightly inventory, routes.

Every function is one transaction and takes the acting ``Actor``; a base outside
what the actor manages is a 404 (``bases.selectors.managed_bases``), a role that
may not act on a base it can see is a 403, a transition the current status does
not allow is a 409 naming that status.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from bases.models import Base, CertificationEvent, NightInventory, RoomType, Route, RouteDay, RouteDeparture, RouteItem, Theme
from bases.selectors import managed_base_get, managed_bases, managed_room_type_get, owned_route_get, visible_bases
from groups.access import Actor
from groups.models import BookingLine, Organisation
from groups.tasks import serve_waitlist
from retreat.errors import Conflict, Forbidden, NotFound, ValidationFailed
from retreat.i18n import in_site_language, listed
from retreat.locking import locked_transaction

Status = Base.Status
Action = CertificationEvent.Action


def _invalid(error: DjangoValidationError) -> ValidationFailed:
    detail = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    where = listed(f"{name}: {' '.join(msgs)}" for name, msgs in detail.items())
    return ValidationFailed(_("数据校验失败：%(where)s") % {"where": where}, detail=detail)


def _full_clean(instance, **kwargs) -> None:
    try:
        instance.full_clean(**kwargs)
    except DjangoValidationError as error:
        raise _invalid(error) from None


# --- certification lifecycle ------------------------------------------------------------

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    Action.APPLY: (frozenset({Status.DRAFT, Status.REVOKED, Status.EXPIRED}), Status.APPLIED),
    Action.CERTIFY: (frozenset({Status.APPLIED}), Status.CERTIFIED),
    Action.SUSPEND: (frozenset({Status.CERTIFIED}), Status.SUSPENDED),
    Action.REINSTATE: (frozenset({Status.SUSPENDED}), Status.CERTIFIED),
    Action.REVOKE: (frozenset({Status.APPLIED, Status.CERTIFIED, Status.SUSPENDED}), Status.REVOKED),
    Action.RENEW: (frozenset({Status.CERTIFIED, Status.EXPIRED}), Status.CERTIFIED),
    Action.EXPIRE: (frozenset({Status.CERTIFIED, Status.SUSPENDED}), Status.EXPIRED),
}
ADMIN_ACTIONS = {Action.CERTIFY, Action.SUSPEND, Action.REINSTATE, Action.REVOKE, Action.RENEW}


def _lock_base_for(*, actor: Actor, base_id: int, action: str) -> Base:
    """The base row, locked, if the actor manages it and its role may perform ``action``."""
    base = managed_bases(actor).select_for_update().filter(pk=base_id).first()
    if base is None:
        raise NotFound(_("基地不存在"), detail={"base_id": base_id})
    if action in ADMIN_ACTIONS and not actor.is_admin:
        raise Forbidden(_("只有管理员可以办理认证"), detail={"action": action})
    allowed_from, _to = TRANSITIONS[action]
    if base.status not in allowed_from:
        raise Conflict(
            _("基地当前状态为“%(status)s”，不能%(action)s")
            % {"status": base.get_status_display(), "action": Action(action).label},
            code="invalid_transition",
            detail={"status": base.status, "action": action, "allowed_from": sorted(allowed_from)},
        )
    return base


def _record(*, base: Base, action: str, from_status: str, actor_user_id: int | None, reason: str, now: dt.datetime):
    base.save(update_fields=["status", "level", "certificate_number", "valid_from", "valid_until"])
    return CertificationEvent.objects.create(
        base=base, action=action, from_status=from_status, to_status=base.status,
        level=base.level, certificate_number=base.certificate_number,
        valid_from=base.valid_from, valid_until=base.valid_until,
        actor_id=actor_user_id, reason=reason, at=now,
    )


def _require_reason(reason: str, action: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("请填写%(action)s原因") % {"action": Action(action).label}, detail={"reason": "required"})
    return reason


def _check_certificate(*, base: Base, level: str, certificate_number: str, valid_from: dt.date, valid_until: dt.date, today: dt.date):
    problems = {}
    if level not in Base.Level.values:
        problems["level"] = _("认证级别须为 %(levels)s：%(level)s") % {"levels": "/".join(Base.Level.values), "level": level}
    if not certificate_number.strip():
        problems["certificate_number"] = _("请填写证书编号")
    if valid_from > valid_until:
        problems["valid_until"] = _("有效期止 %(valid_until)s 早于起始 %(valid_from)s") % {
            "valid_until": valid_until, "valid_from": valid_from,
        }
    elif valid_until < today:
        problems["valid_until"] = _("有效期至 %(valid_until)s 已过") % {"valid_until": valid_until}
    if problems:
        raise ValidationFailed(listed(problems.values()), detail=problems)
    taken = Base.objects.filter(certificate_number=certificate_number.strip()).exclude(pk=base.pk).exists()
    if taken:
        raise Conflict(
            _("证书编号已被其他基地使用：%(number)s") % {"number": certificate_number},
            code="duplicate_certificate",
            detail={"certificate_number": certificate_number},
        )


def certification_apply(*, actor: Actor, base_id: int, reason: str = "", now: dt.datetime | None = None) -> CertificationEvent:
    now = now or timezone.now()
    with transaction.atomic():
        base = _lock_base_for(actor=actor, base_id=base_id, action=Action.APPLY)
        if not base.room_types.exists():
            raise ValidationFailed(_("申请认证前请先添加房型"), detail={"room_types": "required"})
        from_status = base.status
        base.status = Status.APPLIED
        return _record(base=base, action=Action.APPLY, from_status=from_status, actor_user_id=actor.user_id, reason=reason, now=now)


def certification_certify(
    *, actor: Actor, base_id: int, level: str, certificate_number: str, valid_from: dt.date, valid_until: dt.date,
    reason: str = "", now: dt.datetime | None = None,
) -> CertificationEvent:
    now = now or timezone.now()
    with transaction.atomic():
        base = _lock_base_for(actor=actor, base_id=base_id, action=Action.CERTIFY)
        _check_certificate(
            base=base, level=level, certificate_number=certificate_number,
            valid_from=valid_from, valid_until=valid_until, today=timezone.localdate(now),
        )
        from_status = base.status
        base.status, base.level, base.certificate_number = Status.CERTIFIED, level, certificate_number.strip()
        base.valid_from, base.valid_until = valid_from, valid_until
        return _record(base=base, action=Action.CERTIFY, from_status=from_status, actor_user_id=actor.user_id, reason=reason, now=now)


def certification_suspend(*, actor: Actor, base_id: int, reason: str, now: dt.datetime | None = None) -> CertificationEvent:
    now = now or timezone.now()
    with transaction.atomic():
        base = _lock_base_for(actor=actor, base_id=base_id, action=Action.SUSPEND)
        reason = _require_reason(reason, Action.SUSPEND)
        from_status, base.status = base.status, Status.SUSPENDED
        return _record(base=base, action=Action.SUSPEND, from_status=from_status, actor_user_id=actor.user_id, reason=reason, now=now)


def certification_reinstate(*, actor: Actor, base_id: int, reason: str = "", now: dt.datetime | None = None) -> CertificationEvent:
    now = now or timezone.now()
    with transaction.atomic():
        base = _lock_base_for(actor=actor, base_id=base_id, action=Action.REINSTATE)
        if base.valid_until is None or base.valid_until < timezone.localdate(now):
            raise Conflict(
                _("证书已于 %(valid_until)s 到期，请续期") % {"valid_until": base.valid_until},
                code="certificate_expired",
                detail={"status": base.status, "valid_until": str(base.valid_until)},
            )
        reason = _require_reason(reason, Action.REINSTATE)  # why it may receive groups again
        from_status, base.status = base.status, Status.CERTIFIED
        return _record(base=base, action=Action.REINSTATE, from_status=from_status, actor_user_id=actor.user_id, reason=reason, now=now)


def certification_revoke(*, actor: Actor, base_id: int, reason: str, now: dt.datetime | None = None) -> CertificationEvent:
    now = now or timezone.now()
    with transaction.atomic():
        base = _lock_base_for(actor=actor, base_id=base_id, action=Action.REVOKE)
        reason = _require_reason(reason, Action.REVOKE)
        from_status, base.status = base.status, Status.REVOKED
        return _record(base=base, action=Action.REVOKE, from_status=from_status, actor_user_id=actor.user_id, reason=reason, now=now)


def certification_renew(
    *, actor: Actor, base_id: int, valid_until: dt.date, certificate_number: str | None = None, level: str | None = None,
    reason: str = "", now: dt.datetime | None = None,
) -> CertificationEvent:
    """Extend a certificate (also one that has just expired), optionally under a new number or level."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        base = _lock_base_for(actor=actor, base_id=base_id, action=Action.RENEW)
        if base.valid_until is not None and valid_until <= base.valid_until:
            raise ValidationFailed(
                _("新的有效期须晚于当前有效期 %(valid_until)s") % {"valid_until": base.valid_until},
                detail={"valid_until": str(valid_until)},
            )
        level = level or base.level
        certificate_number = certificate_number or base.certificate_number
        valid_from = base.valid_from if base.status == Status.CERTIFIED and base.valid_from else today
        _check_certificate(
            base=base, level=level, certificate_number=certificate_number,
            valid_from=valid_from, valid_until=valid_until, today=today,
        )
        from_status = base.status
        base.status, base.level, base.certificate_number = Status.CERTIFIED, level, certificate_number.strip()
        base.valid_from, base.valid_until = valid_from, valid_until
        return _record(base=base, action=Action.RENEW, from_status=from_status, actor_user_id=actor.user_id, reason=reason, now=now)


def certifications_expire(*, today: dt.date | None = None, now: dt.datetime | None = None) -> list[int]:
    """Mark certified or suspended bases whose certificate ran out before ``today`` as expired.

    Run by the system (no acting user) from ``bases.tasks.expire_certifications``.
    Returns the ids of the bases that expired.
    """
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    allowed_from, to_status = TRANSITIONS[Action.EXPIRE]
    with locked_transaction():
        lapsed = list(
            Base.objects.select_for_update().filter(status__in=allowed_from, valid_until__lt=today).order_by("pk")
        )
        events = []
        for base in lapsed:
            events.append(
                CertificationEvent(
                    base=base, action=Action.EXPIRE, from_status=base.status, to_status=to_status,
                    level=base.level, certificate_number=base.certificate_number,
                    valid_from=base.valid_from, valid_until=base.valid_until, actor=None,
                    reason=in_site_language(gettext_lazy("证书有效期已于 %(date)s 届满"), date=base.valid_until), at=now,
                )
            )
        Base.objects.filter(pk__in=[b.pk for b in lapsed]).update(status=to_status)
        CertificationEvent.objects.bulk_create(events)
    return [base.pk for base in lapsed]


# --- bases ------------------------------------------------------------------------------

BASE_FIELDS = (
    "name", "city_code", "county_code", "address", "latitude", "longitude", "kind", "is_rural", "description",
    "contact_name", "contact_phone", "contact_email", "cancellation_policy", "discount_percent",
)


def _themes(slugs: list[str]) -> list[Theme]:
    themes = list(Theme.objects.filter(slug__in=slugs))
    unknown = sorted(set(slugs) - {theme.slug for theme in themes})
    if unknown:
        raise ValidationFailed(_("未知的主题：%(themes)s") % {"themes": ", ".join(unknown)}, detail={"themes": unknown})
    return themes


def _check_region(*, actor: Actor, base: Base) -> None:
    problems = {}
    if not (len(base.city_code) == 6 and base.city_code.isdigit() and base.city_code.endswith("00")):
        problems["city_code"] = _("地市代码须为以 00 结尾的 6 位数字：%(code)s") % {"code": base.city_code}
    elif not base.county_code.startswith(base.city_code[:4]):
        problems["county_code"] = _("县区代码 %(county)s 不属于地市 %(city)s") % {"county": base.county_code, "city": base.city_code}
    if problems:
        raise ValidationFailed(listed(problems.values()), detail=problems)
    if actor.is_admin and actor.organisation.kind != Organisation.Kind.PROVINCE and base.city_code != actor.organisation.city_code:
        raise ValidationFailed(
            _("只能管理本市（%(own)s）的基地：%(city)s") % {"own": actor.organisation.city_code, "city": base.city_code},
            detail={"city_code": base.city_code},
        )


@transaction.atomic
def base_create(*, actor: Actor, themes: list[str] = (), operator_id: int | None = None, **fields) -> Base:
    """A new base in draft; its operator applies for certification when it is ready."""
    if actor.is_operator:
        operator = actor.organisation
    elif actor.is_admin:
        operator = Organisation.objects.filter(pk=operator_id, kind=Organisation.Kind.OPERATOR).first()
        if operator is None:
            raise ValidationFailed(_("运营单位不存在：%(operator_id)s") % {"operator_id": operator_id}, detail={"operator_id": operator_id})
    else:
        raise Forbidden(_("只有基地运营人员或管理员可以登记基地"))
    base = Base(operator=operator, status=Status.DRAFT, **{k: v for k, v in fields.items() if k in BASE_FIELDS})
    _check_region(actor=actor, base=base)
    _full_clean(base)
    base.save()
    base.themes.set(_themes(list(themes)))
    return base


@transaction.atomic
def base_update(*, actor: Actor, base_id: int, themes: list[str] | None = None, **changes) -> Base:
    base = managed_base_get(actor=actor, base_id=base_id)
    nulls = sorted(name for name, value in changes.items() if name in BASE_FIELDS and value is None)
    if nulls:
        raise ValidationFailed(
            _("以下字段不能为 null，留空请传空字符串：%(fields)s") % {"fields": ", ".join(nulls)},
            detail={name: "null" for name in nulls},
        )
    for name, value in changes.items():
        if name in BASE_FIELDS:
            setattr(base, name, value)
    _check_region(actor=actor, base=base)
    _full_clean(base)
    base.save()
    if themes is not None:
        base.themes.set(_themes(list(themes)))
    return base


@transaction.atomic
def base_delete(*, actor: Actor, base_id: int) -> None:
    """Only a draft can be deleted: anything that was ever applied for keeps its history."""
    base = managed_base_get(actor=actor, base_id=base_id)
    if base.status != Status.DRAFT:
        raise Conflict(
            _("基地当前状态为“%(status)s”，只能删除未申请的基地") % {"status": base.get_status_display()},
            detail={"status": base.status},
        )
    base.delete()


# --- room types -------------------------------------------------------------------------

ROOM_TYPE_FIELDS = ("name", "beds_per_room", "rooms", "price_per_night", "meals_per_day", "accessible")


@transaction.atomic
def room_type_create(*, actor: Actor, base_id: int, **fields) -> RoomType:
    base = managed_base_get(actor=actor, base_id=base_id)
    room_type = RoomType(base=base, **{k: v for k, v in fields.items() if k in ROOM_TYPE_FIELDS})
    _full_clean(room_type)
    room_type.save()
    return room_type


def room_type_update(*, actor: Actor, base_id: int, room_type_id: int, today: dt.date | None = None, **changes) -> RoomType:
    """Change a room type; fewer beds per room is refused while any night from today on holds more people than that leaves."""
    today = today or timezone.localdate()
    with locked_transaction():
        room_type = managed_room_type_get(actor=actor, base_id=base_id, room_type_id=room_type_id)
        beds_before = room_type.beds_per_room
        for name, value in changes.items():
            if name in ROOM_TYPE_FIELDS:
                setattr(room_type, name, value)
        _full_clean(room_type)
        if room_type.beds_per_room < beds_before:
            RoomType.objects.select_for_update().filter(pk=room_type.pk).first()
            # Every night from today is locked, not only those with guests: a hold landing on an empty
            # night while this commits would otherwise be sized by the old beds per room.
            rows = NightInventory.objects.select_for_update().filter(room_type=room_type, night__gte=today).order_by("pk")
            # The people of each night must still fit in the rooms they hold or booked.
            shortfalls = [
                Shortfall(row.night, row.rooms_taken, row.rooms, row.people_held + row.people_booked,
                          row.rooms_taken * room_type.beds_per_room)
                for row in rows
                if row.people_held + row.people_booked > row.rooms_taken * room_type.beds_per_room
            ]
            _refuse_shortfalls(shortfalls, what=_("减少床位后"))
        room_type.save()
    return room_type


@transaction.atomic
def room_type_delete(*, actor: Actor, base_id: int, room_type_id: int) -> None:
    room_type = managed_room_type_get(actor=actor, base_id=base_id, room_type_id=room_type_id)
    in_use = (
        BookingLine.objects.filter(room_type=room_type).exists()
        or RouteDay.objects.filter(night_room_type=room_type).exists()
        or room_type.nights.filter(Q(rooms_held__gt=0) | Q(rooms_booked__gt=0)).exists()
    )
    if in_use:
        raise Conflict(
            _("房型已有预订或被线路使用，不能删除；可关闭其库存"),
            detail={"room_type_id": room_type_id},
        )
    room_type.delete()


# --- nightly inventory ------------------------------------------------------------------


@dataclass(frozen=True)
class InventoryChange:
    room_type_id: int
    first_night: dt.date
    last_night: dt.date
    nights_created: int = 0
    nights_changed: int = 0


@dataclass(frozen=True)
class Shortfall:
    night: dt.date
    rooms_taken: int
    rooms_left: int
    beds_taken: int
    beds_left: int

    @property
    def rooms_short(self) -> int:
        return max(self.rooms_taken - self.rooms_left, 0)

    @property
    def beds_short(self) -> int:
        return max(self.beds_taken - self.beds_left, 0)

    def as_detail(self) -> dict:
        return {
            "night": self.night.isoformat(), "rooms_taken": self.rooms_taken, "rooms_left": self.rooms_left,
            "rooms_short": self.rooms_short, "beds_taken": self.beds_taken, "beds_left": self.beds_left,
            "beds_short": self.beds_short,
        }


def check_night_range(*, first_night: dt.date, last_night: dt.date, today: dt.date) -> None:
    """Nights that can be changed: an ordered range from today to the inventory horizon."""
    horizon = today + dt.timedelta(days=settings.INVENTORY_HORIZON_DAYS)
    if first_night > last_night:
        raise ValidationFailed(
            _("起始日期 %(first)s 晚于结束日期 %(last)s") % {"first": first_night, "last": last_night},
            detail={"first_night": first_night.isoformat(), "last_night": last_night.isoformat()},
        )
    if first_night < today:
        raise ValidationFailed(
            _("不能修改今天（%(today)s）之前的库存：%(first)s") % {"today": today, "first": first_night},
            detail={"first_night": first_night.isoformat(), "today": today.isoformat()},
        )
    if last_night > horizon:
        raise ValidationFailed(
            _("结束日期 %(last)s 超出可开放范围（至 %(horizon)s）") % {"last": last_night, "horizon": horizon},
            detail={"last_night": last_night.isoformat(), "horizon": horizon.isoformat()},
        )


def _check_rooms(rooms: int) -> None:
    if rooms < 0:
        raise ValidationFailed(_("房间数不能为负数：%(rooms)s") % {"rooms": rooms}, detail={"rooms": rooms})


def _refuse_shortfalls(shortfalls: list[Shortfall], *, what: str) -> None:
    """``what`` says when the rooms would be left, e.g. ``_("关闭后")`` (after closing); listed by night."""
    if not shortfalls:
        return
    shortfalls = sorted(shortfalls, key=lambda s: s.night)
    nights = listed(
        _(
            "%(night)s：已占用 %(rooms_taken)s 间/%(beds_taken)s 床，%(what)s仅余 %(rooms_left)s 间/%(beds_left)s 床，"
            "缺 %(rooms_short)s 间/%(beds_short)s 床"
        ) % {
            "night": s.night, "what": what, "rooms_taken": s.rooms_taken, "beds_taken": s.beds_taken,
            "rooms_left": s.rooms_left, "beds_left": s.beds_left, "rooms_short": s.rooms_short, "beds_short": s.beds_short,
        }
        for s in shortfalls
    )
    raise Conflict(
        _("以下日期的已暂留或已预订超出调整后的库存，未做任何修改：%(nights)s") % {"nights": nights},
        code="inventory_shortfall",
        detail={"nights": [s.as_detail() for s in shortfalls]},
    )


def _shortfall(row: NightInventory, *, rooms_left: int, beds_per_room: int) -> Shortfall | None:
    beds_taken = row.people_held + row.people_booked
    beds_left = rooms_left * beds_per_room
    if row.rooms_taken > rooms_left or beds_taken > beds_left:
        return Shortfall(row.night, row.rooms_taken, rooms_left, beds_taken, beds_left)
    return None


def _locked_room_type_nights(*, actor: Actor, base_id: int, room_type_id: int, first_night: dt.date, last_night: dt.date):
    """The room type (locked, so structural changes to its nights are serialised) and its nights in pk order."""
    room_type = managed_room_type_get(actor=actor, base_id=base_id, room_type_id=room_type_id)
    RoomType.objects.select_for_update().filter(pk=room_type.pk).first()
    rows = list(
        NightInventory.objects.select_for_update()
        .filter(room_type=room_type, night__range=(first_night, last_night))
        .order_by("pk")
    )
    return room_type, rows


def _nights(first_night: dt.date, last_night: dt.date) -> list[dt.date]:
    return [first_night + dt.timedelta(days=i) for i in range((last_night - first_night).days + 1)]


def _serve_waitlist_after_commit(base_id: int) -> None:
    """Rooms went on sale: offer them to the groups waiting for this base once the change is committed."""
    transaction.on_commit(lambda: serve_waitlist.delay(base_id))


def inventory_open_season(
    *, actor: Actor, base_id: int, room_type_id: int, first_night: dt.date, last_night: dt.date,
    rooms: int | None = None, today: dt.date | None = None,
) -> InventoryChange:
    """Put every night of the range on sale with ``rooms`` rooms (default: the room type's count).

    Missing nights are created; existing ones are reopened at the new capacity,
    unless that would leave fewer rooms than already held or booked.
    """
    today = today or timezone.localdate()
    check_night_range(first_night=first_night, last_night=last_night, today=today)
    with locked_transaction():
        room_type, rows = _locked_room_type_nights(
            actor=actor, base_id=base_id, room_type_id=room_type_id, first_night=first_night, last_night=last_night
        )
        capacity = room_type.rooms if rooms is None else rooms
        _check_rooms(capacity)
        shortfalls = [s for row in rows if (s := _shortfall(row, rooms_left=capacity, beds_per_room=room_type.beds_per_room))]
        _refuse_shortfalls(shortfalls, what=_("开放后"))
        existing = {row.night for row in rows}
        missing = [night for night in _nights(first_night, last_night) if night not in existing]
        NightInventory.objects.filter(pk__in=[row.pk for row in rows]).update(rooms=capacity, closed=False)
        created = NightInventory.objects.bulk_create(
            NightInventory(room_type=room_type, night=night, rooms=capacity) for night in missing
        )
        if capacity > 0 and (missing or any(row.closed or row.rooms < capacity for row in rows)):
            _serve_waitlist_after_commit(room_type.base_id)
    return InventoryChange(room_type.pk, first_night, last_night, nights_created=len(created), nights_changed=len(rows))


def inventory_close(
    *, actor: Actor, base_id: int, room_type_id: int, first_night: dt.date, last_night: dt.date, today: dt.date | None = None
) -> InventoryChange:
    """Take the opened nights of the range off sale; refused for any night someone holds or booked."""
    today = today or timezone.localdate()
    check_night_range(first_night=first_night, last_night=last_night, today=today)
    with locked_transaction():
        room_type, rows = _locked_room_type_nights(
            actor=actor, base_id=base_id, room_type_id=room_type_id, first_night=first_night, last_night=last_night
        )
        shortfalls = [s for row in rows if (s := _shortfall(row, rooms_left=0, beds_per_room=room_type.beds_per_room))]
        _refuse_shortfalls(shortfalls, what=_("关闭后"))
        changed = NightInventory.objects.filter(pk__in=[row.pk for row in rows], closed=False).update(closed=True)
    return InventoryChange(room_type.pk, first_night, last_night, nights_changed=changed)


def inventory_reopen(
    *, actor: Actor, base_id: int, room_type_id: int, first_night: dt.date, last_night: dt.date, today: dt.date | None = None
) -> InventoryChange:
    """Put closed nights of the range back on sale at the capacity they had."""
    today = today or timezone.localdate()
    check_night_range(first_night=first_night, last_night=last_night, today=today)
    with locked_transaction():
        room_type, rows = _locked_room_type_nights(
            actor=actor, base_id=base_id, room_type_id=room_type_id, first_night=first_night, last_night=last_night
        )
        changed = NightInventory.objects.filter(pk__in=[row.pk for row in rows], closed=True).update(closed=False)
        if changed:
            _serve_waitlist_after_commit(room_type.base_id)
    return InventoryChange(room_type.pk, first_night, last_night, nights_changed=changed)


def inventory_change_capacity(
    *, actor: Actor, base_id: int, room_type_id: int, first_night: dt.date, last_night: dt.date, rooms: int,
    today: dt.date | None = None,
) -> InventoryChange:
    """Set the rooms on sale for every opened night of the range; never below what is held or booked."""
    today = today or timezone.localdate()
    check_night_range(first_night=first_night, last_night=last_night, today=today)
    _check_rooms(rooms)
    with locked_transaction():
        room_type, rows = _locked_room_type_nights(
            actor=actor, base_id=base_id, room_type_id=room_type_id, first_night=first_night, last_night=last_night
        )
        if not rows:
            raise ValidationFailed(
                _("%(first)s 至 %(last)s 尚未开放库存，请先开放") % {"first": first_night, "last": last_night},
                detail={"first_night": first_night.isoformat(), "last_night": last_night.isoformat()},
            )
        shortfalls = [s for row in rows if (s := _shortfall(row, rooms_left=rooms, beds_per_room=room_type.beds_per_room))]
        _refuse_shortfalls(shortfalls, what=_("调整后"))
        rooms_added = any(not row.closed and row.rooms < rooms for row in rows)
        changed = NightInventory.objects.filter(pk__in=[row.pk for row in rows]).exclude(rooms=rooms).update(rooms=rooms)
        if rooms_added:
            _serve_waitlist_after_commit(room_type.base_id)
    return InventoryChange(room_type.pk, first_night, last_night, nights_changed=changed)


# --- routes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteItemSpec:
    time: dt.time
    place: str
    activity: str
    meals: str = ""


@dataclass(frozen=True)
class RouteDaySpec:
    number: int
    night_base_id: int | None = None
    night_room_type_id: int | None = None
    items: list[RouteItemSpec] = field(default_factory=list)


def _check_days(*, actor: Actor, days: list[RouteDaySpec]) -> dict[int, Base]:
    """Days numbered 1..n, each night at a base the actor can see, in one of that base's room types."""
    if not days:
        raise ValidationFailed(_("线路至少需要一天"), detail={"days": "required"})
    numbers = sorted(day.number for day in days)
    if numbers != list(range(1, len(days) + 1)):
        raise ValidationFailed(
            _("日程须从第 1 天起连续编号至第 %(count)s 天：%(numbers)s") % {"count": len(days), "numbers": numbers},
            detail={"days": numbers},
        )
    base_ids = {day.night_base_id for day in days if day.night_base_id is not None}
    bases = {base.pk: base for base in visible_bases(actor).filter(pk__in=base_ids)}
    room_types = {
        rt.pk: rt for rt in RoomType.objects.filter(pk__in={d.night_room_type_id for d in days if d.night_room_type_id})
    }
    for day in days:
        if day.night_base_id is None:
            if day.night_room_type_id is not None:
                raise ValidationFailed(
                    _("第 %(day)s 天：指定房型时须指定住宿基地") % {"day": day.number}, detail={"day": day.number}
                )
            continue
        if day.night_base_id not in bases:
            raise ValidationFailed(
                _("第 %(day)s 天：住宿基地 %(base)s 不存在") % {"day": day.number, "base": day.night_base_id},
                detail={"day": day.number, "night_base_id": day.night_base_id},
            )
        room_type = room_types.get(day.night_room_type_id)
        if room_type is None or room_type.base_id != day.night_base_id:
            raise ValidationFailed(
                _("第 %(day)s 天：房型 %(room_type)s 不属于基地 %(base)s")
                % {"day": day.number, "room_type": day.night_room_type_id, "base": day.night_base_id},
                detail={"day": day.number, "night_room_type_id": day.night_room_type_id},
            )
    return bases


def _write_days(*, route: Route, days: list[RouteDaySpec]) -> None:
    route.route_days.all().delete()
    for spec in sorted(days, key=lambda d: d.number):
        day = RouteDay.objects.create(
            route=route, number=spec.number, night_base_id=spec.night_base_id, night_room_type_id=spec.night_room_type_id
        )
        items = [RouteItem(day=day, time=i.time, place=i.place, activity=i.activity, meals=i.meals) for i in spec.items]
        for item in items:
            _full_clean(item, exclude=["day"])
        RouteItem.objects.bulk_create(items)


def _check_price(price_per_head: Decimal) -> None:
    if price_per_head < 0:
        raise ValidationFailed(
            _("价格不能为负数：%(price)s") % {"price": price_per_head}, detail={"price_per_head": str(price_per_head)}
        )


@transaction.atomic
def route_create(
    *, actor: Actor, title: str, price_per_head: Decimal, days: list[RouteDaySpec], summary: str = "",
    themes: list[str] = (), published: bool = False,
) -> Route:
    if not actor.is_operator:
        raise Forbidden(_("只有基地运营人员可以发布线路"))
    _check_price(price_per_head)
    _check_days(actor=actor, days=days)
    route = Route(operator=actor.organisation, title=title, summary=summary, price_per_head=price_per_head, published=published)
    _full_clean(route)
    route.save()
    route.themes.set(_themes(list(themes)))
    _write_days(route=route, days=days)
    if published:
        check_route_bookable(route=route, today=timezone.localdate())
    return route


@transaction.atomic
def route_update(
    *, actor: Actor, route_id: int, title: str | None = None, summary: str | None = None,
    price_per_head: Decimal | None = None, themes: list[str] | None = None, days: list[RouteDaySpec] | None = None,
) -> Route:
    route = owned_route_get(actor=actor, route_id=route_id)
    if title is not None:
        route.title = title
    if summary is not None:
        route.summary = summary
    if price_per_head is not None:
        _check_price(price_per_head)
        route.price_per_head = price_per_head
    _full_clean(route)
    route.save()
    if themes is not None:
        route.themes.set(_themes(list(themes)))
    if days is not None:
        if route.departures.filter(Q(seats_held__gt=0) | Q(seats_booked__gt=0)).exists():
            raise Conflict(_("线路已有预订，不能修改日程"), detail={"route_id": route_id})
        _check_days(actor=actor, days=days)
        _write_days(route=route, days=days)
        if route.published:
            check_route_bookable(route=route, today=timezone.localdate())
    return owned_route_get(actor=actor, route_id=route_id)


def check_route_bookable(*, route: Route, today: dt.date) -> None:
    """A published route is offered for booking: every night must be at a base whose certification is valid now."""
    uncertified = [
        day for day in route.route_days.select_related("night_base").order_by("number")
        if day.night_base_id and not (
            day.night_base.status == Status.CERTIFIED and day.night_base.valid_until and day.night_base.valid_until >= today
        )
    ]
    if uncertified:
        days = listed(
            _("第 %(day)s 天：%(base)s（%(status)s）")
            % {"day": day.number, "base": day.night_base.name, "status": day.night_base.get_status_display()}
            for day in uncertified
        )
        raise Conflict(
            _("线路住宿的基地须持有效认证才能发布：%(days)s") % {"days": days},
            code="base_not_certified",
            detail={"days": [{"day": day.number, "night_base_id": day.night_base_id, "status": day.night_base.status}
                             for day in uncertified]},
        )


@transaction.atomic
def route_publish(*, actor: Actor, route_id: int, published: bool, today: dt.date | None = None) -> Route:
    route = owned_route_get(actor=actor, route_id=route_id)
    if published:
        check_route_bookable(route=route, today=today or timezone.localdate())
    route.published = published
    route.save(update_fields=["published"])
    return route


def _check_departure(*, date: dt.date, seats: int, today: dt.date) -> None:
    problems = {}
    if seats < 1:
        problems["seats"] = _("座位数须至少为 1：%(seats)s") % {"seats": seats}
    if date < today:
        problems["date"] = _("出发日期已过：%(date)s") % {"date": date}
    elif date > today + dt.timedelta(days=settings.INVENTORY_HORIZON_DAYS):
        problems["date"] = _("出发日期超出可开放范围（%(days)s 天内）：%(date)s") % {
            "days": settings.INVENTORY_HORIZON_DAYS, "date": date,
        }
    if problems:
        raise ValidationFailed(listed(problems.values()), detail=problems)


@transaction.atomic
def departure_create(*, actor: Actor, route_id: int, date: dt.date, seats: int, today: dt.date | None = None) -> RouteDeparture:
    route = owned_route_get(actor=actor, route_id=route_id)
    _check_departure(date=date, seats=seats, today=today or timezone.localdate())
    if route.departures.filter(date=date).exists():
        raise Conflict(_("该日期已有团期：%(date)s") % {"date": date}, detail={"date": date.isoformat()})
    return RouteDeparture.objects.create(route=route, date=date, seats=seats)


def departure_change_seats(*, actor: Actor, route_id: int, departure_id: int, seats: int) -> RouteDeparture:
    route = owned_route_get(actor=actor, route_id=route_id)
    if seats < 0:
        raise ValidationFailed(_("座位数不能为负数：%(seats)s") % {"seats": seats}, detail={"seats": seats})
    with locked_transaction():
        departure = RouteDeparture.objects.select_for_update().filter(route=route, pk=departure_id).first()
        if departure is None:
            raise NotFound(_("团期不存在"), detail={"departure_id": departure_id})
        taken = departure.seats_held + departure.seats_booked
        if seats < taken:
            raise Conflict(
                _("%(date)s：已占用 %(taken)s 座，调整后仅 %(seats)s 座，缺 %(short)s 座，未做任何修改")
                % {"date": departure.date, "taken": taken, "seats": seats, "short": taken - seats},
                code="inventory_shortfall",
                detail={"date": departure.date.isoformat(), "seats_taken": taken, "seats_left": seats, "seats_short": taken - seats},
            )
        departure.seats = seats
        departure.save(update_fields=["seats"])
    return departure


@transaction.atomic
def departure_delete(*, actor: Actor, route_id: int, departure_id: int) -> None:
    route = owned_route_get(actor=actor, route_id=route_id)
    departure = route.departures.filter(pk=departure_id).first()
    if departure is None:
        raise NotFound(_("团期不存在"), detail={"departure_id": departure_id})
    if departure.seats_held or departure.seats_booked or departure.bookings.exists() or departure.batches.exists():
        raise Conflict(_("%(date)s 的团期已有预订，不能删除") % {"date": departure.date}, detail={"departure_id": departure_id})
    departure.delete()

