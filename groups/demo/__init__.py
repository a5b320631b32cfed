"""The demo dataset: ``python manage.py seed_demo --seed 2025``."""
