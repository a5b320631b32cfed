"""Settings come from the environment; production refuses to start half-configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_SETTINGS = (
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'retreat.settings'); django.setup();"
    "from django.conf import settings as s;"
    "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.TIME_ZONE, s.LANGUAGE_CODE, s.USE_TZ)"
)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    ours = {"DATABASE_URL", "REDIS_URL", "DJANGO_ENV", "DJANGO_DEBUG", *PRODUCTION}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60)


def test_embedded_default_is_sqlite_and_eager_celery():
    result = run_python(PRINT_SETTINGS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "Asia/Shanghai", "zh-hans", "True"]


def test_environment_selects_postgresql_and_a_real_broker():
    result = run_python(PRINT_SETTINGS, DATABASE_URL="postgres://postgres@127.0.0.1:5432/x", REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["django.db.backends.postgresql", "False"]


PRODUCTION = {
    "DJANGO_ENV": "production", "SECRET_KEY": "s" * 50, "ALLOWED_HOSTS": "retreat.example.cn",
    "ID_ENCRYPTION_KEY": "k", "ID_HASH_KEY": "h", "CODE_SIGNING_KEY": "ab" * 32, "PUBLIC_SITE_URL": "https://retreat.example.cn",
}
PRINT_PRODUCTION = (
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'retreat.settings'); django.setup();"
    "from django.conf import settings as s;"
    "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.ALLOWED_HOSTS, s.PUBLIC_SITE_URL)"
)


def test_production_starts_with_every_value_set_and_debug_off():
    result = run_python(PRINT_PRODUCTION, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True", "True", "['retreat.example.cn']", "https://retreat.example.cn"]


@pytest.mark.parametrize(
    "bad, problem",
    [
        ({"SECRET_KEY": "dev-only-insecure-key-change-me"}, "SECRET_KEY must be a random value"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be a random value"),
        ({"ALLOWED_HOSTS": "retreat.example.cn,"}, "ALLOWED_HOSTS must list"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS must list"),
        ({"CODE_SIGNING_KEY": "not-hex"}, "CODE_SIGNING_KEY must be 64 hex digits"),
        ({"CODE_SIGNING_KEY": "ab" * 16}, "CODE_SIGNING_KEY must be 64 hex digits"),
        ({"DJANGO_DEBUG": "1"}, "DJANGO_DEBUG=1 is not allowed"),
    ],
)
def test_production_refuses_to_start_with_a_value_that_would_fail_later(bad, problem):
    result = run_python(PRINT_SETTINGS, **{**PRODUCTION, **bad})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and problem in result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "ID_ENCRYPTION_KEY", "ID_HASH_KEY", "CODE_SIGNING_KEY", "PUBLIC_SITE_URL"])
def test_production_refuses_to_start_without_a_required_value(missing):
    production = dict(PRODUCTION)
    del production[missing]
    result = run_python(PRINT_SETTINGS, **production)
    assert result.returncode != 0
    assert f"{missing} must be set when DJANGO_ENV=production" in result.stderr
