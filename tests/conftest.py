"""The fixed cast of users and the settings every test runs under."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from smsportal.core.roles import MANAGER, OPERATOR
from tests.factories import UserFactory
from tests.fakes import account, script  # noqa: F401  (fixtures)
from tests.support.lean import RoutedClient
from tests.support.sandbox import _running_sandbox, sandbox, sandbox_account  # noqa: F401

# Tests never assert timings (benchmarks live in bench/): on a busy machine an example may take
# longer than Hypothesis's default 200 ms limit, which would fail a test that found no bug.
hypothesis_settings.register_profile("portal", deadline=None)
hypothesis_settings.load_profile("portal")

# What makes a test depend on the suite's database: pytest-django's marker, or a fixture that
# opens it (directly or through another fixture: `fixturenames` is the whole closure). Not
# django_db_blocker: pytest-django asks it for every test; a fixture that unblocks the
# database by hand asks django_db_setup for it.
DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "django_db_setup",
        "live_server",
    }
)


def pytest_addoption(parser):
    parser.addoption(
        "--only-database-tests",
        action="store_true",
        help="Run only the tests that use the suite's database. CI's second run (PostgreSQL) "
        "takes it: every other test gives the same answer on any database and ran in the first.",
    )


def uses_the_database(item) -> bool:
    if item.get_closest_marker("django_db"):
        return True
    return not DATABASE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


def pytest_collection_modifyitems(config, items):
    if not config.getoption("only_database_tests"):
        return
    kept, left = [], []
    for item in items:
        (kept if uses_the_database(item) else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"  # uploads (imports) land in the test's own folder
    cache.clear()  # ids repeat from test to test: nothing cached may outlive one
    # The manifest exists only after collectstatic; tests serve static files from the finders.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.AXES_ENABLED = False  # throttling has its own tests, which switch it back on
    yield
    # The test client runs requests in this thread, and LocaleMiddleware leaves the request's
    # language active after it: a test of a page in Arabic would leave the next test in Arabic.
    translation.deactivate()


@pytest.fixture
def client():
    """pytest-django's client, routing requests as gunicorn does (smsportal/wsgi.py):
    providers' callbacks through the lean request path, every other request the full one."""
    return RoutedClient()


def _member_of(role: str, **kwargs):
    """A user in `role`, and in the department "General" (as every user is after the upgrade
    that brought departments): tests of departments make their own."""
    user = UserFactory(**kwargs)
    user.groups.add(Group.objects.get(name=role))
    general_department().members.add(user)
    return user


def general_department():
    from smsportal.departments.models import Department

    return Department.objects.get_or_create(name="General")[0]


@pytest.fixture
def manager(db):
    return _member_of(MANAGER, username="manager")


@pytest.fixture
def operator(db):
    return _member_of(OPERATOR, username="operator")


@pytest.fixture
def outsider(db):
    """Logged in, but in no role: may see nothing of the portal's data."""
    return UserFactory(username="outsider")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture(scope="session")
def django_db_modify_db_settings(request, tmp_path_factory) -> None:
    """On SQLite, test against a database file rather than Django's shared in-memory one.

    Threads in tests (concurrent transfers, the live server) each open their own connection;
    an in-memory shared-cache database fails a second writer at once with "database table is
    locked", where a file in WAL mode waits on the busy timeout exactly as production does.
    """
    import os

    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3" and not db.get("TEST", {}).get("NAME"):
        base = "/dev/shm" if os.path.isdir("/dev/shm") else str(tmp_path_factory.getbasetemp())
        db.setdefault("TEST", {})["NAME"] = os.path.join(base, f"smsportal-test-{os.getpid()}.db")
    # pytest-django's own step: a per-worker suffix under pytest-xdist.
    request.getfixturevalue("django_db_modify_db_settings_parallel_suffix")
