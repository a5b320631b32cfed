"""Shared fixtures. Django imports stay inside the fixtures so the pure-domain
tests (solver, funding arithmetic) also run with ``-p no:django``."""

import pytest

pytest_plugins = ["tests.browser.fixtures"]


@pytest.fixture(autouse=True)
def test_settings(request, settings):
    """The default language, fast password hashing (the ``users`` fixture makes eight users), mail kept in
    memory, and Celery tasks run in-process, except in tests that start a real worker."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # the locale middleware's activation outlives a test client's request in this thread:
    # without this, an English request in one test would change the next one's words
    from django.utils import translation

    translation.deactivate()
    request.addfinalizer(translation.deactivate)
    if request.node.get_closest_marker("worker"):
        yield
        return
    from retreat.celery import app

    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def union_tree(db):
    """Province → two cities → a county each → an enterprise each, plus an operator."""
    from groups.models import Organisation
    from tests.factories import OrganisationFactory
    province = OrganisationFactory(name="广东省总工会", kind=Organisation.Kind.PROVINCE, division_code="440000")
    dongguan = OrganisationFactory(name="东莞市总工会", kind=Organisation.Kind.CITY, division_code="441900", parent=province)
    shenzhen = OrganisationFactory(name="深圳市总工会", kind=Organisation.Kind.CITY, division_code="440300", parent=province)
    humen = OrganisationFactory(name="东莞市虎门镇总工会", kind=Organisation.Kind.TOWN, division_code="441900", parent=dongguan)
    nanshan = OrganisationFactory(name="深圳市南山区总工会", kind=Organisation.Kind.COUNTY, division_code="440305", parent=shenzhen)
    factory_union = OrganisationFactory(name="东莞某电子厂工会", kind=Organisation.Kind.ENTERPRISE, division_code="441900", parent=humen)
    sz_enterprise = OrganisationFactory(name="深圳某科技公司工会", kind=Organisation.Kind.ENTERPRISE, division_code="440305", parent=nanshan)
    operator = OrganisationFactory(name="河源温泉运营公司", kind=Organisation.Kind.OPERATOR, division_code="441600")
    other_operator = OrganisationFactory(name="韶关丹霞运营公司", kind=Organisation.Kind.OPERATOR, division_code="440200")
    return {
        "province": province, "dongguan": dongguan, "shenzhen": shenzhen, "humen": humen, "nanshan": nanshan,
        "factory": factory_union, "sz_enterprise": sz_enterprise, "operator": operator, "other_operator": other_operator,
    }


@pytest.fixture
def users(union_tree):
    from groups.models import Membership
    from tests.factories import member

    t = union_tree
    return {
        "province_admin": member(organisation=t["province"], role=Membership.Role.ADMINISTRATOR, username="prov_admin"),
        "dongguan_admin": member(organisation=t["dongguan"], role=Membership.Role.ADMINISTRATOR, username="dg_admin"),
        "dongguan_organiser": member(organisation=t["dongguan"], role=Membership.Role.ORGANISER, username="dg_org"),
        "factory_organiser": member(organisation=t["factory"], role=Membership.Role.ORGANISER, username="factory_org"),
        "shenzhen_organiser": member(organisation=t["sz_enterprise"], role=Membership.Role.ORGANISER, username="sz_org"),
        "dongguan_fund": member(organisation=t["dongguan"], role=Membership.Role.FUND_MANAGER, username="dg_fund"),
        "operator": member(organisation=t["operator"], role=Membership.Role.OPERATOR, username="hy_operator"),
        "other_operator": member(organisation=t["other_operator"], role=Membership.Role.OPERATOR, username="sg_operator"),
    }


@pytest.fixture
def client_for():
    """A test client signed in as the given user."""
    from django.test import Client

    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make
