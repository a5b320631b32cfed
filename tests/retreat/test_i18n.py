"""English is complete: with the language switched to English the key pages render
English and nothing in the interface is left in Chinese; with no preference the
pages stay Chinese; and every msgid in the English catalogue has a translation.

The compiled catalogue (``django.mo``) is not committed: ``scripts/test.sh``
builds it, and the ``english_catalogue`` fixture rebuilds it here whenever it is
missing or older than ``django.po``, so the test also runs on its own.
"""

import datetime as dt
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

LOCALE_DIR = Path(__file__).resolve().parents[2] / "locale" / "en" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff01-\uff5e]")
# Data the pages show as it is stored (names, the language switcher's own label).
ALLOWED = ("简体中文",)


# --- the catalogue ---------------------------------------------------------------


def _unquote(text: str) -> str:
    return bytes(text.strip()[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def read_po(path: Path) -> list[dict]:
    """Entries of a .po file: msgid, msgid_plural, msgstr/msgstr[n], flags. Enough for Django's files."""
    entries, entry, key = [], None, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry if entry is not None else {"flags": set(), "msgstr": {}}
        if line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$', line):
            name, index, value = match.group(1), match.group(2), _unquote(match.group(3))
            if name.startswith("msgstr"):
                key = ("msgstr", int(index or 0))
                entry["msgstr"][key[1]] = value
            else:
                key = name
                entry[name] = value
        elif line.startswith('"'):
            if isinstance(key, tuple):
                entry["msgstr"][key[1]] += _unquote(line)
            else:
                entry[key] += _unquote(line)
    return [e for e in entries if not e.get("obsolete")]


@pytest.fixture(scope="module")
def english_catalogue(django_db_blocker):
    """Compile the English catalogue if needed and make Django reload its translations."""
    assert PO_FILE.exists(), "run makemessages -l en: locale/en/LC_MESSAGES/django.po is missing"
    if not MO_FILE.exists() or MO_FILE.stat().st_mtime < PO_FILE.stat().st_mtime:
        if shutil.which("msgfmt") is None:
            pytest.fail("msgfmt (Debian package gettext) is needed to compile locale/en; run scripts/install.sh")
        from django.core.management import call_command

        call_command("compilemessages", locale=["en"], ignore_patterns=[".venv"], verbosity=0)
    from django.utils.translation import trans_real

    trans_real._translations = {}
    trans_real._default = None
    yield MO_FILE


def test_every_msgid_has_an_english_translation():
    entries = [e for e in read_po(PO_FILE) if e["msgid"]]
    assert len(entries) > 500
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"].values()) or not e["msgstr"]]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert not untranslated, f"untranslated msgids (run /tmp/i18n_fill.py or translate by hand): {untranslated}"
    assert not fuzzy, f"fuzzy msgids: {fuzzy}"
    still_chinese = [e["msgid"] for e in entries if any(re.search(r"[\u3400-\u9fff]", s) for s in e["msgstr"].values())]
    assert not still_chinese, f"msgstr still in Chinese: {still_chinese}"


def test_placeholders_survive_translation():
    placeholder = re.compile(r"%\(\w+\)[sd]|%%|\{\w*\}")
    for entry in read_po(PO_FILE):
        for msgstr in entry["msgstr"].values():
            assert sorted(placeholder.findall(entry["msgid"])) == sorted(placeholder.findall(msgstr)), entry["msgid"]


# --- the pages ----------------------------------------------------------------


@pytest.fixture
def english_world(db, english_catalogue):
    """An organisation tree and data with Latin names, so any Chinese left on a page is untranslated interface."""
    from groups.models import Batch, Membership, Organisation
    from tests.factories import OrganisationFactory, member

    province = OrganisationFactory(name="Guangdong FTU", kind=Organisation.Kind.PROVINCE, division_code="440000")
    city = OrganisationFactory(name="Dongguan FTU", kind=Organisation.Kind.CITY, division_code="441900", parent=province)
    factory_union = OrganisationFactory(name="Factory Union", kind=Organisation.Kind.ENTERPRISE, division_code="441900", parent=city)
    operator = OrganisationFactory(name="Heyuan Springs Ltd", kind=Organisation.Kind.OPERATOR, division_code="441600")
    users = {
        "admin": member(organisation=province, role=Membership.Role.ADMINISTRATOR, username="en_admin"),
        "organiser": member(organisation=factory_union, role=Membership.Role.ORGANISER, username="en_org"),
        "operator": member(organisation=operator, role=Membership.Role.OPERATOR, username="en_operator"),
        "fund_manager": member(organisation=city, role=Membership.Role.FUND_MANAGER, username="en_fund"),
    }
    for user in users.values():
        user.first_name = user.username
        user.save()
    batch = Batch.objects.create(
        union=factory_union, title="Winter model workers", arrival=dt.date(2031, 1, 12), nights=3, created_by=users["organiser"],
    )
    from billing.models import FundProgramme

    FundProgramme.objects.create(
        union=city, name="Dongguan retreat fund", budget=Decimal("100000.00"), available=Decimal("100000.00"),
        valid_from=dt.date(2031, 1, 1), valid_until=dt.date(2031, 12, 31), order=20,
        contribution=FundProgramme.Contribution.COVER_COST, created_by=users["fund_manager"],
        created_at=dt.datetime(2031, 1, 1, tzinfo=dt.timezone.utc),
    )
    return {"users": users, "batch": batch}


def english(client):
    """Switch the client to English the way the switcher in base.html does."""
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


def page(client, url, data=None):
    """The page at ``url``; with ``data``, the page a form post answers with."""
    response = client.get(url) if data is None else client.post(url, data)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def h1(html):
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert match, "page has no <h1>"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def untranslated(html):
    """Chinese left in the rendered page, outside scripts and allowed data."""
    text = re.sub(r"<script\b.*?</script>", "", html, flags=re.S)
    for allowed in ALLOWED:
        text = text.replace(allowed, "")
    return sorted({m.group(0) for m in re.finditer(r"[^<>]{0,20}" + CJK.pattern + r"+[^<>]{0,20}", text)})


def assert_english(html, *words):
    assert not CJK.search(h1(html)), h1(html)
    for word in words:
        assert word in html, word
    assert untranslated(html) == []
    assert '<html lang="en">' in html


def test_login_page_in_english(client, english_catalogue):
    html = page(english(client), "/login/")
    assert_english(html, "Log in", "Username", "Password")
    assert h1(html) == "Log in"


@pytest.mark.parametrize(
    ("role", "words"),
    [
        ("admin", ["Dashboard", "Administrator", "Certification review", "Planning rounds", "Fund programmes"]),
        ("organiser", ["Dashboard", "Union organiser", "Retreat batches", "Bookings and waitlist"]),
        ("operator", ["Dashboard", "Base operator staff", "Arriving today", "Scan to check in", "My bases"]),
        ("fund_manager", ["Dashboard", "Fund manager", "Settlement review", "Monthly statements and export"]),
    ],
)
def test_home_in_english_for_each_role(client_for, english_world, role, words):
    html = page(english(client_for(english_world["users"][role])), "/")
    assert_english(html, *words, "Log out", "API tokens")
    assert h1(html) == "Dashboard"


def test_base_directory_in_english(client_for, english_world):
    html = page(english(client_for(english_world["users"]["organiser"])), "/bases/")
    assert_english(html, "Retreat base directory", "Search", "Check-in date")


def test_batch_page_in_english(client_for, english_world):
    batch = english_world["batch"]
    html = page(english(client_for(english_world["users"]["organiser"])), f"/batches/{batch.pk}/")
    assert_english(html, "Winter model workers", "Participants", "Eligibility rules", "Export CSV", "nights")


def test_billing_programmes_page_in_english(client_for, english_world):
    html = page(english(client_for(english_world["users"]["fund_manager"])), "/billing/")
    assert_english(html, "Fund programmes", "Budget", "Committed", "Available", "Pays actual costs", "Dongguan retreat fund")
    assert h1(html) == "Fund programmes"


def test_planning_rounds_page_in_english(client_for, english_world):
    html = page(english(client_for(english_world["users"]["admin"])), "/planning/")
    assert_english(html, "Planning rounds", "New planning round", "No planning rounds yet")
    assert h1(html) == "Planning rounds"


def test_language_cookie_alone_selects_english(client, english_catalogue, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert h1(page(client, "/login/")) == "Log in"


def test_no_preference_renders_chinese(client_for, english_world):
    from django.test import Client

    anonymous = page(Client(), "/login/")
    assert h1(anonymous) == "登录"
    assert '<html lang="zh-hans">' in anonymous
    html = page(client_for(english_world["users"]["fund_manager"]), "/billing/")
    assert h1(html) == "专项经费"
    assert "预算" in html and "Budget" not in html
    html = page(client_for(english_world["users"]["admin"]), "/planning/")
    assert h1(html) == "统筹轮次"


# --- error messages --------------------------------------------------------------


def test_an_api_error_is_in_the_readers_language_with_the_same_code_and_detail(client_for, english_world):
    client = client_for(english_world["users"]["organiser"])
    body = {"title": "Past batch", "arrival": "2020-01-01", "nights": 3}
    chinese = client.post("/api/v1/batches", body, content_type="application/json")
    english_answer = client.post("/api/v1/batches", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert chinese.status_code == english_answer.status_code == 422
    chinese, english_answer = chinese.json(), english_answer.json()
    assert chinese["message"].startswith("抵达日期 2020-01-01 早于今天")
    assert english_answer["message"].startswith("The arrival date 2020-01-01 is before today")
    assert not CJK.search(english_answer["message"])
    assert chinese["code"] == english_answer["code"] and chinese["detail"] == english_answer["detail"]


def test_the_api_shapes_own_messages_follow_the_language(client_for, english_world):
    client = client_for(english_world["users"]["organiser"])
    assert client.get("/api/v1/no-such-thing").json()["message"] == "接口不存在"
    assert client.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="en").json()["message"] == "No such API endpoint"


def test_a_form_error_is_in_english(client_for, english_world):
    from groups.models import Batch

    client = english(client_for(english_world["users"]["organiser"]))
    html = page(client, "/batches/", {"title": "Past batch", "arrival": "2020-01-01", "nights": "3"})
    assert "The arrival date 2020-01-01 is before today" in html
    assert untranslated(html) == []
    assert not Batch.objects.filter(title="Past batch").exists()


# --- the catalogue against the code ------------------------------------------------

APPS = ("bases", "billing", "groups", "itineraries", "retreat")
GETTEXT_NAMES = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy"}


def _gettext_calls(tree):
    """(node, msgid or None) for every gettext call; None when the message is not a literal."""
    import ast

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT_NAMES:
            message = node.args[1 if node.func.id.startswith("pgettext") else 0] if node.args else None
            yield node, message.value if isinstance(message, ast.Constant) and isinstance(message.value, str) else None


def test_every_message_in_the_code_is_in_the_catalogue():
    """makemessages finds them (no gettext inside an f-string, where xgettext does not look) and they are translated."""
    import ast

    root = PO_FILE.parents[3]
    msgids = {entry["msgid"] for entry in read_po(PO_FILE)}
    missing, hidden = [], []
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for joined in (node for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)):
                hidden += [f"{path.relative_to(root)}:{node.lineno}" for node, _msgid in _gettext_calls(joined)]
            missing += [f"{path.relative_to(root)}:{node.lineno} {msgid}"
                        for node, msgid in _gettext_calls(tree) if msgid is not None and msgid not in msgids]
    assert not hidden, f"gettext inside an f-string, which makemessages cannot see: {hidden}"
    assert not missing, f"not in locale/en (run makemessages -l en and translate): {missing}"
