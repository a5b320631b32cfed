#!/usr/bin/env bash
# Sets up and runs the product with realistic Guangdong demo data on the
# embedded default (SQLite, Celery eager) at http://127.0.0.1:8000/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py compilemessages --ignore=.venv >/dev/null 2>&1 || true
.venv/bin/python manage.py seed_demo --seed 2025
exec .venv/bin/python manage.py runserver 127.0.0.1:8000
