"""`--only-database-tests` (CI's PostgreSQL run) keeps every test that touches the suite's
database, however it gets there, and leaves only those that cannot."""

from __future__ import annotations

import pytest

from tests.conftest import uses_the_database


class Item:
    def __init__(self, *fixtures: str, marker: bool = False):
        self.fixturenames = ["django_db_blocker", "settings", *fixtures]
        self.marker = marker

    def get_closest_marker(self, name):
        return object() if self.marker and name == "django_db" else None


@pytest.mark.parametrize(
    "item",
    [
        Item(marker=True),  # @pytest.mark.django_db, or a module's pytestmark
        Item("db"),
        Item("transactional_db"),
        Item("manager", "db"),  # a fixture that needs the database, e.g. a user
        Item("live_server", "transactional_db"),
        Item("django_db_setup"),  # a module fixture that unblocks the database by hand
    ],
)
def test_a_test_that_touches_the_database_is_kept(item):
    assert uses_the_database(item)


def test_a_test_that_cannot_touch_the_database_is_left_to_the_first_run():
    # pytest-django asks django_db_blocker for every test: it is no sign of using the database.
    assert not uses_the_database(Item("settings", "tmp_path"))
