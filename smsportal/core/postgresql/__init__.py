"""The PostgreSQL database backend the portal uses (settings.DATABASES: ENGINE), Django's own
with one change: see base.py."""
