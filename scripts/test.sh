#!/usr/bin/env bash
# Installs everything and runs the whole test suite against PostgreSQL
# (127.0.0.1:5432, user postgres) and Redis (127.0.0.1:6379). pytest-django
# creates (and drops) its own test database. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/retreat}
export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/15}
export PLAYWRIGHT_BROWSERS_PATH=0
DATABASE_URL=sqlite:///:memory: .venv/bin/python manage.py makemigrations --check --dry-run >/dev/null
.venv/bin/python manage.py compilemessages --ignore=.venv >/dev/null
exec .venv/bin/python -m pytest "$@"
