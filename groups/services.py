"""Writes for organisations, users, API tokens, batches, participants and rooming lists.

Booking services (hold, confirm, cancel, waitlist) live in ``groups/bookings.py``.
"""

import datetime as dt
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from bases.models import RouteDeparture
from billing.funding.rules import trip_days
from groups.access import Actor, Role
from groups.bookings import check_stay_dates, nights_problem, organiser_batch_get
from groups.identity import InvalidResidentId, encrypt_resident_id, reencrypt_resident_id, resident_id_hash
from groups.models import ApiToken, Batch, Booking, Membership, Organisation, Participant
from groups.participants import UnreadableFile, read_participant_file
from groups.rooming import BookedRooms, Occupant, Placement, RoomingImpossible, propose_rooming, rooming_problems
from retreat.errors import Conflict, NotFound, ValidationFailed
from retreat.locking import locked_transaction
from retreat.i18n import listed


@transaction.atomic
def organisation_create(*, name: str, kind: str, division_code: str, parent: Organisation | None = None) -> Organisation:
    if kind not in Organisation.Kind.values:
        raise ValidationFailed(_("未知的组织类型：%(kind)s") % {"kind": kind}, detail={"kind": kind})
    organisation = Organisation(name=name, kind=kind, division_code=division_code, parent=parent)
    organisation.full_clean(exclude=["path"])
    organisation.save()
    parent_path = parent.path if parent else "/"
    organisation.path = f"{parent_path}{organisation.pk}/"
    organisation.save(update_fields=["path"])
    return organisation


@transaction.atomic
def user_create(*, username: str, password: str, organisation: Organisation, role: str, full_name: str = "", email: str = ""):
    if role not in Membership.Role.values:
        raise ValidationFailed(_("未知的角色：%(role)s") % {"role": role}, detail={"role": role})
    if role == Membership.Role.OPERATOR and organisation.is_union:
        raise ValidationFailed(_("基地运营人员必须属于运营单位"))
    if role != Membership.Role.OPERATOR and not organisation.is_union:
        raise ValidationFailed(_("该角色必须属于工会"))
    user = get_user_model().objects.create_user(username=username, password=password, email=email, first_name=full_name)
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


def api_token_create(*, actor: Actor, name: str) -> tuple[ApiToken, str]:
    """Create a token; the raw value is returned once and never stored."""
    raw = "rt_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user_id=actor.user_id, name=name, prefix=raw[:8], digest=ApiToken.digest_of(raw))
    return token, raw


def api_token_revoke(*, actor: Actor, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user_id=actor.user_id).first()
    if token is None:
        raise NotFound(_("令牌不存在"))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# --- batches ----------------------------------------------------------------------------


@transaction.atomic
def batch_create(
    *, actor: Actor, title: str, union_id: int | None = None, purpose: str = "", arrival: dt.date | None = None,
    nights: int = 3, route_departure_id: int | None = None, min_front_line_percent: int | None = None,
    no_repeat_years: int | None = None, max_stay_days: int | None = None, family_allowed: bool = True,
) -> Batch:
    """A batch of the actor's own union, or of a union under it."""
    actor.require(Role.ORGANISER)
    union = actor.organisation
    if union_id is not None and union_id != union.pk:
        union = Organisation.objects.filter(pk=union_id, path__startswith=actor.organisation.path).first()
        if union is None:
            raise NotFound(_("工会不存在"), detail={"union_id": union_id})
    _check_batch_terms(nights=nights, min_front_line_percent=min_front_line_percent, no_repeat_years=no_repeat_years,
                       max_stay_days=max_stay_days)
    if arrival is not None:  # the batch's stay must be one that can be booked: from today, within the horizon
        check_stay_dates(arrival=arrival, nights=nights, today=timezone.localdate())
    departure = None
    if route_departure_id is not None:
        departure = RouteDeparture.objects.filter(pk=route_departure_id, route__published=True).first()
        if departure is None:
            raise NotFound(_("线路团期不存在"), detail={"route_departure_id": route_departure_id})
    batch = Batch(
        union=union, title=title.strip(), purpose=purpose, arrival=arrival, nights=nights, route_departure=departure,
        min_front_line_percent=min_front_line_percent, no_repeat_years=no_repeat_years, max_stay_days=max_stay_days,
        family_allowed=family_allowed, created_by_id=actor.user_id,
    )
    try:
        batch.full_clean(exclude=["created_by"])
    except DjangoValidationError as error:
        raise ValidationFailed(_("批次信息有误：%(problems)s") % {"problems": listed(error.messages)},
                               detail=error.message_dict) from None
    batch.save()
    return batch


# a batch's limits (the API's schema `BatchIn` uses them too)
MAX_NO_REPEAT_YEARS = 20
MAX_STAY_DAYS = 60


def _check_batch_terms(*, nights: int, min_front_line_percent: int | None, no_repeat_years: int | None,
                       max_stay_days: int | None) -> None:
    """The batch's numbers, each refused with a sentence saying what is allowed (the API's schema has the same bounds),
    instead of a database constraint's name."""
    problems = {}
    if problem := nights_problem(nights):
        problems["nights"] = problem
    if min_front_line_percent is not None and not 0 <= min_front_line_percent <= 100:
        problems["min_front_line_percent"] = (
            _("一线职工最低占比须在 0 到 100 之间：%(value)s") % {"value": min_front_line_percent}
        )
    if no_repeat_years is not None and not 1 <= no_repeat_years <= MAX_NO_REPEAT_YEARS:
        problems["no_repeat_years"] = (_("不得重复参加的年数须在 1 到 %(max)s 之间：%(value)s")
                                       % {"max": MAX_NO_REPEAT_YEARS, "value": no_repeat_years})
    if max_stay_days is not None and not 1 <= max_stay_days <= MAX_STAY_DAYS:
        problems["max_stay_days"] = (_("最长天数须在 1 到 %(max)s 之间：%(value)s")
                                     % {"max": MAX_STAY_DAYS, "value": max_stay_days})
    elif max_stay_days is not None and "nights" not in problems and max_stay_days < trip_days(nights):
        # the batch's own eligibility check would fail everyone on it
        problems["max_stay_days"] = (_("最长天数 %(max_days)s 天短于本批次的 %(nights)s 晚即 %(days)s 天（含路途）")
                                     % {"max_days": max_stay_days, "nights": nights, "days": trip_days(nights)})
    if problems:
        raise ValidationFailed(_("批次信息有误：%(problems)s") % {"problems": listed(problems.values())}, detail=problems)


# --- participants -----------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int


def participants_import(
    *, actor: Actor, batch_id: int, content: bytes, filename: str, today: dt.date | None = None
) -> ImportResult:
    """Add the people of a CSV or XLSX file to a batch, all or nothing.

    Every bad row is reported with its line number and what is wrong
    (``ValidationFailed`` with ``detail["rows"]``); then nothing is saved.
    """
    today = today or timezone.localdate()
    batch = organiser_batch_get(actor=actor, batch_id=batch_id)
    try:
        rows, problems = read_participant_file(content=content, filename=filename, today=today)
    except UnreadableFile as error:
        raise ValidationFailed(str(error), code="import_rejected", detail={"rows": [{"line": error.line, "problems": [str(error)]}]}) from None
    problem_lines = {problem.line: list(problem.problems) for problem in problems}
    with transaction.atomic():
        Batch.objects.select_for_update().filter(pk=batch.pk).first()
        on_file = list(batch.participants.values_list("id_hash", "pk", "category"))
        existing = {id_hash: pk for id_hash, pk, _category in on_file}
        existing_family = {id_hash for id_hash, _pk, category in on_file if category == Participant.Category.FAMILY}
        hashes = {row.line: resident_id_hash(row.resident.number) for row in rows}
        in_file = {row.resident.number: hashes[row.line] for row in rows}
        family_in_file = {row.resident.number for row in rows if row.category == Participant.Category.FAMILY}
        for row in rows:
            if hashes[row.line] in existing:
                problem_lines.setdefault(row.line, []).append(_("此人已在本批次名单中"))
            if row.family_of_number:
                worker_hash = in_file.get(row.family_of_number) or resident_id_hash(row.family_of_number)
                if row.family_of_number == row.resident.number:
                    problem_lines.setdefault(row.line, []).append(
                        _("随行职工身份证号不能是本人")
                    )
                elif row.family_of_number in family_in_file or worker_hash in existing_family:
                    problem_lines.setdefault(row.line, []).append(
                        _("随行职工须为职工本人，不能是另一位家属")
                    )
                elif worker_hash not in existing and row.family_of_number not in in_file:
                    problem_lines.setdefault(row.line, []).append(
                        _("随行职工不在本批次名单或本文件中")
                    )
        booked = batch.bookings.filter(status__in=[Booking.Status.CONFIRMED, Booking.Status.CHECKED_IN]).first()
        if booked is not None and not problem_lines and len(existing) + len(rows) > booked.people:
            raise Conflict(
                _("预订 %(reference)s 已确认 %(people)s 人，名单已有 %(listed)s 人，不能再导入 %(importing)s 人") % {
                    "reference": booked.reference, "people": booked.people, "listed": len(existing), "importing": len(rows),
                },
                code="places_exceeded", detail={"reference": booked.reference, "people": booked.people,
                                                "listed": len(existing), "importing": len(rows)},
            )
        if problem_lines:
            detail = [{"line": line, "problems": problem_lines[line]} for line in sorted(problem_lines)]
            raise ValidationFailed(
                _("导入失败：%(count)s 行有误，未导入任何人员") % {"count": len(detail)},
                code="import_rejected", detail={"rows": detail},
            )
        created = Participant.objects.bulk_create(
            Participant(
                batch=batch, name=row.name, id_encrypted=encrypt_resident_id(row.resident.number), id_hash=hashes[row.line],
                id_masked=row.resident.masked, birth_date=row.resident.birth_date, gender=row.gender, phone=row.phone,
                employer=row.employer, job_title=row.job_title, category=row.category,
            )
            for row in rows
        )
        by_hash = existing | {p.id_hash: p.pk for p in created}
        family = []
        for row, participant in zip(rows, created, strict=True):
            if row.family_of_number:
                participant.family_of_id = by_hash[in_file.get(row.family_of_number) or resident_id_hash(row.family_of_number)]
                family.append(participant)
        Participant.objects.bulk_update(family, ["family_of"])
    return ImportResult(created=len(created))


def participant_remove(*, actor: Actor, batch_id: int, participant_id: int) -> Participant:
    """Take a person off a batch's list (they are not coming), before anyone of the batch checks in.

    A worker whose family members are still listed stays until they are removed; a booking's
    places are given back separately, by a partial cancellation."""
    batch = organiser_batch_get(actor=actor, batch_id=batch_id)
    with locked_transaction():
        Batch.objects.select_for_update().filter(pk=batch.pk).first()
        participant = batch.participants.filter(pk=participant_id).first()
        if participant is None:
            raise NotFound(_("参加人员不存在"), detail={"participant_id": participant_id})
        # The bookings are locked too, so a check-in scanned at this moment waits and then no longer sees the person.
        locked = list(Booking.objects.select_for_update().filter(batch=batch).order_by("pk").values_list("reference", "status"))
        arrived = next((reference for reference, status in locked
                        if status in (Booking.Status.CHECKED_IN, Booking.Status.COMPLETED)), None)
        if arrived:
            raise Conflict(
                _("预订 %(reference)s 已开始核销入住，名单不能再删减") % {"reference": arrived},
                code="list_final", detail={"reference": arrived},
            )
        family = list(participant.family.values_list("name", flat=True))
        if family:
            raise Conflict(
                _("请先移除随行家属：%(names)s") % {"names": _("、").join(family)},
                code="family_listed", detail={"family": family},
            )
        try:
            with transaction.atomic():
                participant.delete()
        except ProtectedError:
            raise Conflict(
                _("此人已有核销或结算记录，不能移除"), code="participant_in_use",
                detail={"participant_id": participant_id},
            ) from None
    participant.pk = participant_id
    return participant


# --- rooming ----------------------------------------------------------------------------


def _rooming_inputs(batch: Batch) -> tuple[list[Participant], list[Occupant], list[BookedRooms]]:
    from groups.selectors import active_booking_of, rooming_inputs_of

    booking = active_booking_of(batch=batch)
    if booking is None:
        raise Conflict(_("请先暂留房间再排房"), code="no_booking")
    return rooming_inputs_of(booking=booking)


def _save_placements(participants: list[Participant], placements: dict[int, Placement]) -> list[Participant]:
    for participant in participants:
        placement = placements[participant.pk]
        participant.room_type_id, participant.room_label = placement.room_type_id, placement.room_label
    Participant.objects.bulk_update(participants, ["room_type", "room_label"])
    return participants


@transaction.atomic
def rooming_propose(*, actor: Actor, batch_id: int) -> list[Participant]:
    """Propose and save a rooming list for the rooms booked on the first night."""
    batch = organiser_batch_get(actor=actor, batch_id=batch_id)
    participants, occupants, booked = _rooming_inputs(batch)
    try:
        placements = propose_rooming(occupants=occupants, booked=booked)
    except RoomingImpossible as error:
        raise Conflict(str(error), code="rooming_impossible") from None
    return _save_placements(participants, placements)


@transaction.atomic
def rooming_save(*, actor: Actor, batch_id: int, placements: dict[int, Placement]) -> list[Participant]:
    """Save an edited rooming list after checking beds, genders and the rooms booked."""
    batch = organiser_batch_get(actor=actor, batch_id=batch_id)
    participants, occupants, booked = _rooming_inputs(batch)
    unknown = sorted(set(placements) - {p.pk for p in participants})
    if unknown:
        raise ValidationFailed(_("这些人员不在本批次"), detail={"participant_ids": unknown})
    problems = rooming_problems(occupants=occupants, placements=placements, booked=booked)
    if problems:
        raise ValidationFailed(_("排房有误：%(problems)s") % {"problems": listed(problems)}, code="rooming_invalid",
                               detail={"problems": problems})
    return _save_placements(participants, placements)


def participant_ids_reencrypt(*, chunk_size: int = 2000) -> int:
    """Re-encrypt every stored ID number with the current (first) key; how many there were.

    For replacing the key: put the new key first in ``ID_ENCRYPTION_KEY`` and the old one
    after it, run this, then drop the old key. All or nothing: if some number opens with
    no configured key, nothing is changed and the error lists the participants.
    The rows are locked while it runs, so an edit meanwhile cannot be overwritten with
    the number it replaced; rows added meanwhile already carry the new key.
    """
    undecryptable: list[int] = []
    count = 0
    with transaction.atomic():
        pending: list[Participant] = []
        rows = Participant.objects.select_for_update().only("pk", "id_encrypted").order_by("pk")
        for participant in rows.iterator(chunk_size=chunk_size):
            try:
                participant.id_encrypted = reencrypt_resident_id(participant.id_encrypted)
            except InvalidResidentId:
                undecryptable.append(participant.pk)
                continue
            pending.append(participant)
            count += 1
            if len(pending) == chunk_size:
                Participant.objects.bulk_update(pending, ["id_encrypted"])
                pending = []
        if undecryptable:  # raised inside the transaction: every row written above is rolled back
            raise ValidationFailed(
                _("%(count)s 名人员的身份证号无法用已配置的任何密钥解密，未做任何更改；参加人员 ID：%(ids)s") % {
                    "count": len(undecryptable),
                    "ids": ", ".join(map(str, undecryptable[:20])) + (" ..." if len(undecryptable) > 20 else ""),
                },
                code="undecryptable_ids", detail={"participant_ids": undecryptable},
            )
        Participant.objects.bulk_update(pending, ["id_encrypted"])
    return count
