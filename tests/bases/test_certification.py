import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps
from django.utils import translation

from bases import services
from bases.models import Base, CertificationEvent
from bases.tasks import expire_certifications
from groups.access import actor_of
from retreat.errors import Conflict, Forbidden, NotFound, ValidationFailed
from tests.factories import BaseFactory

pytestmark = pytest.mark.django_db


def certify(actor, base, today, number="粤疗证A001"):
    return services.certification_certify(
        actor=actor, base_id=base.pk, level=Base.Level.PROVINCIAL, certificate_number=number,
        valid_from=today, valid_until=today + dt.timedelta(days=365), reason="材料齐全",
    )


def test_the_whole_lifecycle_is_recorded_with_who_and_why(users, draft_base, today):
    operator, admin = actor_of(users["operator"]), actor_of(users["province_admin"])

    services.certification_apply(actor=operator, base_id=draft_base.pk, reason="申请省级认证")
    certify(admin, draft_base, today)
    services.certification_suspend(actor=admin, base_id=draft_base.pk, reason="消防整改")
    services.certification_reinstate(actor=admin, base_id=draft_base.pk, reason="整改完成")
    services.certification_renew(actor=admin, base_id=draft_base.pk, valid_until=today + dt.timedelta(days=1000))
    services.certification_revoke(actor=admin, base_id=draft_base.pk, reason="严重投诉")

    draft_base.refresh_from_db()
    assert draft_base.status == Base.Status.REVOKED
    events = list(draft_base.certification_events.values_list("action", "from_status", "to_status", "actor__username", "reason"))
    assert events == [
        ("apply", "draft", "applied", "hy_operator", "申请省级认证"),
        ("certify", "applied", "certified", "prov_admin", "材料齐全"),
        ("suspend", "certified", "suspended", "prov_admin", "消防整改"),
        ("reinstate", "suspended", "certified", "prov_admin", "整改完成"),
        ("renew", "certified", "certified", "prov_admin", ""),
        ("revoke", "certified", "revoked", "prov_admin", "严重投诉"),
    ]
    certified = draft_base.certification_events.get(action="certify")
    assert (certified.level, certified.certificate_number, certified.valid_from) == ("provincial", "粤疗证A001", today)


@pytest.mark.parametrize(
    "status, action",
    [
        ("draft", "certify"), ("draft", "suspend"), ("applied", "reinstate"), ("certified", "apply"),
        ("certified", "certify"), ("suspended", "suspend"), ("revoked", "reinstate"), ("revoked", "suspend"),
        ("expired", "reinstate"), ("draft", "revoke"), ("revoked", "renew"),
    ],
)
def test_a_transition_the_status_does_not_allow_is_a_409_naming_the_status(users, draft_base, today, status, action):
    Base.objects.filter(pk=draft_base.pk).update(
        status=status, level="city", certificate_number="X-1", valid_from=today, valid_until=today + dt.timedelta(days=30)
    )
    admin = actor_of(users["province_admin"])
    arguments = {
        "apply": {}, "suspend": {"reason": "r"}, "reinstate": {}, "revoke": {"reason": "r"},
        "certify": {"level": "city", "certificate_number": "X-2", "valid_from": today, "valid_until": today + dt.timedelta(days=9)},
        "renew": {"valid_until": today + dt.timedelta(days=400)},
    }[action]
    with pytest.raises(Conflict) as refused:
        getattr(services, f"certification_{action}")(actor=admin, base_id=draft_base.pk, **arguments)
    assert refused.value.detail["status"] == status
    assert f"“{Base.Status(status).label}”" in refused.value.message
    draft_base.refresh_from_db()
    assert draft_base.status == status
    assert not CertificationEvent.objects.exists()


def test_a_city_admin_certifies_only_bases_in_its_city(users, union_tree, today):
    in_dongguan = BaseFactory(status="applied", city_code="441900", county_code="441900", level="", certificate_number="", valid_from=None, valid_until=None)
    in_heyuan = BaseFactory(status="applied", city_code="441600", level="", certificate_number="", valid_from=None, valid_until=None)
    dongguan_admin = actor_of(users["dongguan_admin"])

    certify(dongguan_admin, in_dongguan, today)
    with pytest.raises(NotFound):
        certify(dongguan_admin, in_heyuan, today, number="粤疗证A002")
    in_heyuan.refresh_from_db()
    assert in_heyuan.status == "applied"


def test_operators_apply_for_their_own_bases_but_cannot_certify(users, draft_base, today):
    other = actor_of(users["other_operator"])
    with pytest.raises(NotFound):
        services.certification_apply(actor=other, base_id=draft_base.pk)
    operator = actor_of(users["operator"])
    services.certification_apply(actor=operator, base_id=draft_base.pk)
    with pytest.raises(Forbidden):
        certify(operator, draft_base, today)
    organiser = actor_of(users["dongguan_organiser"])
    with pytest.raises(NotFound):
        services.certification_apply(actor=organiser, base_id=draft_base.pk)


def test_suspend_and_revoke_need_a_reason(users, heyuan_base):
    admin = actor_of(users["province_admin"])
    for action in (services.certification_suspend, services.certification_revoke):
        with pytest.raises(ValidationFailed):
            action(actor=admin, base_id=heyuan_base.pk, reason="  ")
    heyuan_base.refresh_from_db()
    assert heyuan_base.status == "certified"


def test_an_action_is_named_as_an_action_not_as_the_status_of_the_same_word(users, heyuan_base):
    """"暂停" is both an action and a status: in English the action reads "Suspension", the status "Suspended"."""
    admin = actor_of(users["province_admin"])
    with pytest.raises(ValidationFailed, match="请填写暂停原因"):
        services.certification_suspend(actor=admin, base_id=heyuan_base.pk, reason="")
    with translation.override("en"), pytest.raises(ValidationFailed, match="Please give a reason for “Suspension”"):
        services.certification_suspend(actor=admin, base_id=heyuan_base.pk, reason="")
    with translation.override("en"):
        assert str(Base.Status.SUSPENDED.label) == "Suspended"


def test_reinstating_needs_a_reason_too(users, client_for, heyuan_base):
    admin = actor_of(users["province_admin"])
    services.certification_suspend(actor=admin, base_id=heyuan_base.pk, reason="消防整改")
    with pytest.raises(ValidationFailed):
        services.certification_reinstate(actor=admin, base_id=heyuan_base.pk, reason=" ")
    response = client_for(users["province_admin"]).post(
        f"/api/v1/bases/{heyuan_base.pk}/certification/reinstate", "{}", content_type="application/json"
    )
    assert response.status_code == 422 and response.json()["detail"] == {"reason": "required"}
    heyuan_base.refresh_from_db()
    assert heyuan_base.status == "suspended" and heyuan_base.certification_events.count() == 1
    event = services.certification_reinstate(actor=admin, base_id=heyuan_base.pk, reason="整改完成，复查合格")
    assert (event.to_status, event.reason, event.actor_id) == ("certified", "整改完成，复查合格", users["province_admin"].pk)


def test_certify_checks_the_certificate(users, draft_base, heyuan_base, today):
    Base.objects.filter(pk=draft_base.pk).update(status="applied")
    admin = actor_of(users["province_admin"])
    with pytest.raises(ValidationFailed) as reversed_dates:
        services.certification_certify(
            actor=admin, base_id=draft_base.pk, level="city", certificate_number="N1",
            valid_from=today, valid_until=today - dt.timedelta(days=1),
        )
    assert "valid_until" in reversed_dates.value.detail
    with pytest.raises(Conflict) as duplicate:
        certify(admin, draft_base, today, number=heyuan_base.certificate_number)
    assert duplicate.value.code == "duplicate_certificate"
    draft_base.refresh_from_db()
    assert draft_base.status == "applied"


def test_expiry_marks_lapsed_certificates_with_a_system_event(users, today):
    lapsed = BaseFactory(valid_until=today - dt.timedelta(days=1))
    suspended_lapsed = BaseFactory(status="suspended", valid_until=today - dt.timedelta(days=3))
    last_day_today = BaseFactory(valid_until=today)
    revoked = BaseFactory(status="revoked", valid_until=today - dt.timedelta(days=10))

    with translation.override("en"):  # a stored text is in the site's language, whatever is active
        expired_ids = services.certifications_expire(today=today)

    assert sorted(expired_ids) == sorted([lapsed.pk, suspended_lapsed.pk])
    assert set(Base.objects.filter(status="expired").values_list("pk", flat=True)) == {lapsed.pk, suspended_lapsed.pk}
    event = CertificationEvent.objects.get(base=lapsed)
    assert (event.action, event.from_status, event.to_status, event.actor) == ("expire", "certified", "expired", None)
    assert event.reason == f"证书有效期已于 {lapsed.valid_until} 届满"
    last_day_today.refresh_from_db()
    revoked.refresh_from_db()
    assert (last_day_today.status, revoked.status) == ("certified", "revoked")
    assert services.certifications_expire(today=today) == []  # running again changes nothing


def test_expiry_reasons_stored_bilingual_are_rewritten_in_the_site_language(today):
    migration = importlib.import_module("bases.migrations.0003_expiry_reason_in_site_language")
    base = BaseFactory(valid_until=dt.date(2026, 3, 31))
    services.certifications_expire(today=today)
    old = "证书有效期已于 2026-03-31 届满 (certificate ran out on 2026-03-31)"
    CertificationEvent.objects.filter(base=base).update(reason=old)

    migration.forwards(django_apps, None)

    assert CertificationEvent.objects.get(base=base).reason == "证书有效期已于 2026-03-31 届满"


def test_the_celery_task_wraps_the_expiry_service(today):
    BaseFactory(valid_until=today - dt.timedelta(days=1))
    assert expire_certifications.delay().get() == 1
    assert Base.objects.get().status == "expired"


def test_a_lapsed_certificate_is_renewed_not_reinstated(users, today):
    admin = actor_of(users["province_admin"])
    base = BaseFactory(status="suspended", valid_until=today - dt.timedelta(days=1))
    with pytest.raises(Conflict) as refused:
        services.certification_reinstate(actor=admin, base_id=base.pk)
    assert refused.value.code == "certificate_expired"
    services.certifications_expire(today=today)
    services.certification_renew(actor=admin, base_id=base.pk, valid_until=today + dt.timedelta(days=365), reason="复审通过")
    base.refresh_from_db()
    assert (base.status, base.valid_from, base.valid_until) == ("certified", today, today + dt.timedelta(days=365))
    assert base.is_bookable_on(today, today + dt.timedelta(days=3))


def test_renewal_must_extend_the_certificate(users, heyuan_base):
    admin = actor_of(users["province_admin"])
    with pytest.raises(ValidationFailed):
        services.certification_renew(actor=admin, base_id=heyuan_base.pk, valid_until=heyuan_base.valid_until)
    assert not CertificationEvent.objects.exists()


def test_apply_needs_a_room_type(users, union_tree):
    bare = BaseFactory(operator=union_tree["operator"], status="draft", level="", certificate_number="", valid_from=None, valid_until=None)
    with pytest.raises(ValidationFailed):
        services.certification_apply(actor=actor_of(users["operator"]), base_id=bare.pk)


def test_the_certification_queue_takes_the_directory_filters(users, client_for, union_tree, today):
    applied = dict(level="", certificate_number="", valid_from=None, valid_until=None)
    heyuan = BaseFactory(status="applied", city_code="441600", county_code="441622", kind="homestay", **applied)
    shaoguan = BaseFactory(status="applied", city_code="440200", county_code="440282", kind="hot_spring", **applied)
    suspended = BaseFactory(status="suspended", city_code="441600", county_code="441624", level="city")
    expiring = BaseFactory(city_code="440200", county_code="440282", valid_until=today + dt.timedelta(days=10))
    BaseFactory(city_code="440200", county_code="440282")  # certified for years: not in the queue
    client = client_for(users["province_admin"])

    def queue(query=""):
        response = client.get(f"/api/v1/bases/certification-queue?{query}")
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert queue() == {heyuan.pk, shaoguan.pk, suspended.pk, expiring.pk}
    assert queue("region=441600") == {heyuan.pk, suspended.pk}
    assert queue("region=441624") == {suspended.pk}
    assert queue("status=applied&kind=homestay") == {heyuan.pk}
    assert queue("level=city") == {suspended.pk}
    assert queue("expiring_within_days=5") == {heyuan.pk, shaoguan.pk, suspended.pk}
    for bad in ("region=44", "status=lost", "expiring_within_days=-1", "theme=nope"):
        response = client.get(f"/api/v1/bases/certification-queue?{bad}")
        assert response.status_code == 422 and set(response.json()) == {"code", "message", "detail"}, bad
