"""Prepared queries (core/prepared.py): the SQL compiled once per connection, the rows read
afresh on every call and the same as the ORM's; values it cannot stand in for go through the
ORM; a lookup that rewrites its value is refused when compiled."""

from __future__ import annotations

from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db.models.sql.compiler import SQLCompiler
from django_otp.plugins.otp_totp.models import TOTPDevice

from smsportal.core.models import Preference
from smsportal.core.prepared import Prepared
from smsportal.departments.forms import first_two_of
from smsportal.departments.models import Department
from smsportal.messaging.forms import active_account
from smsportal.providers.models import ProviderAccount
from smsportal.routing.models import DestinationPrice
from smsportal.routing.prices import PriceTable, prices_of
from smsportal.users.backends import ModelBackend, user_with_preference
from tests.factories import ProviderAccountFactory, UserFactory

pytestmark = pytest.mark.django_db


def fields_of(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def compilations():
    return mock.patch.object(SQLCompiler, "as_sql", autospec=True, side_effect=SQLCompiler.as_sql)


def test_model_rows_are_the_orms_and_read_afresh():
    account = ProviderAccountFactory(name="Zain", max_parts=7, price_per_segment=Decimal("0.125"))
    [found] = active_account(account.pk)
    assert fields_of(found) == fields_of(ProviderAccount.objects.get(pk=account.pk))
    assert isinstance(found.price_per_segment, Decimal) and found.is_active is True
    assert found._state.adding is False and found._state.db == "default"

    ProviderAccount.objects.filter(pk=account.pk).update(name="Ooredoo", max_parts=9)
    [again] = active_account(account.pk)
    assert (again.name, again.max_parts) == ("Ooredoo", 9)  # never a kept row
    ProviderAccount.objects.filter(pk=account.pk).update(is_active=False)
    assert active_account(account.pk) == []
    assert active_account(account.pk + 1000) == []


def test_the_sql_is_compiled_once_and_each_call_is_one_query(django_assert_num_queries):
    account = ProviderAccountFactory()
    query = Prepared(lambda pk: ProviderAccount.objects.filter(pk=pk), int)
    with compilations() as compiled:
        with django_assert_num_queries(1):  # the stand-in values are compiled, never run
            query(account.pk)
        assert compiled.call_count == 1
        with django_assert_num_queries(1):
            assert query(account.pk)[0].pk == account.pk
        with django_assert_num_queries(1):
            assert query(account.pk + 1) == []
        assert compiled.call_count == 1


def test_select_related_and_annotations_as_the_orm_gives_them():
    plain, with_choices = UserFactory(), UserFactory()
    Preference.objects.create(user=with_choices, language="ar", time_zone="Asia/Kuwait")
    TOTPDevice.objects.create(user=with_choices, name="phone", confirmed=True)
    backend = ModelBackend()
    for user in (plain, with_choices):
        prepared = backend.get_user(user.pk)
        [orm] = user_with_preference(user.pk)
        assert fields_of(prepared) == fields_of(orm)
        assert prepared.two_factor_on == orm.two_factor_on == (user == with_choices)
    assert backend.get_user(with_choices.pk).preference.time_zone == "Asia/Kuwait"
    with pytest.raises(Preference.DoesNotExist):
        backend.get_user(plain.pk).preference  # noqa: B018 (joined: no second query)
    assert backend.get_user(with_choices.pk + 1000) is None
    type(with_choices).objects.filter(pk=with_choices.pk).update(is_active=False)
    assert backend.get_user(with_choices.pk) is None


def test_values_list_rows_and_slices():
    account, other = ProviderAccountFactory(), ProviderAccountFactory()
    for prefix, price in (("965", "0.010"), ("9665", "0.020"), ("1", "0.5")):
        DestinationPrice.objects.create(account=account, prefix=prefix, price_per_part=price)
    DestinationPrice.objects.create(account=other, prefix="44", price_per_part="0.3")
    table = PriceTable.of(account)
    assert table.prices.entries == dict(prices_of(account.pk))
    assert table.price_of("+96650000000") == Decimal("0.020")
    flat = Prepared(
        lambda pk: Permission.objects.filter(pk__lte=pk).values_list("pk", flat=True), int
    )
    assert flat(5) == list(Permission.objects.filter(pk__lte=5).values_list("pk", flat=True))

    Department.objects.all().delete()
    superuser, member = UserFactory(is_superuser=True), UserFactory()
    assert first_two_of(superuser) == [] == first_two_of(member)
    for name in ("Sales", "Finance", "Audit"):
        Department.objects.create(name=name)
    Department.objects.get(name="Sales").members.add(member)
    for user in (superuser, member):
        assert first_two_of(user) == list(Department.objects.of(user)[:2])
    assert [d.name for d in first_two_of(superuser)] == ["Audit", "Finance"]
    assert [d.name for d in first_two_of(member)] == ["Sales"]


def test_values_it_cannot_stand_in_for_go_through_the_orm():
    account = ProviderAccountFactory()
    query = Prepared(lambda pk: ProviderAccount.objects.filter(pk=pk), int)
    assert query(2**70) == []  # the ORM finds nothing beyond a column's range; SQLite overflowed
    assert query(str(account.pk))[0].pk == account.pk  # the ORM turns it into a number
    with compilations() as compiled:
        query(True)
    assert compiled.call_count == 1  # compiled by the ORM, not kept
    with pytest.raises(TypeError):
        query()


def test_a_lookup_that_rewrites_its_value_is_refused():
    query = Prepared(lambda name: ProviderAccount.objects.filter(name__icontains=name), str)
    with pytest.raises(ValueError, match="not a parameter"):
        query("zain")
    with pytest.raises(TypeError):
        Prepared(lambda when: ProviderAccount.objects.filter(created_at=when), object)


def test_a_str_value_is_compared_as_it_is():
    account = ProviderAccountFactory(name="Zain Kuwait")
    by_name = Prepared(lambda name: ProviderAccount.objects.filter(name=name), str)
    assert [a.pk for a in by_name("Zain Kuwait")] == [account.pk]
    assert by_name("zain kuwait") == list(ProviderAccount.objects.filter(name="zain kuwait"))
    assert by_name("Robert'); DROP TABLE providers_provideraccount;--") == []
    assert ProviderAccount.objects.filter(pk=account.pk).exists()


def test_a_union_of_two_queries_is_the_orms(django_assert_num_queries):
    from django.contrib.auth.models import Group

    from smsportal.users.backends import permission_rows, permissions_of

    user, other = UserFactory(), UserFactory()
    codenames = list(Permission.objects.order_by("pk")[:6])
    user.user_permissions.add(*codenames[:2])
    group = Group.objects.create(name="Readers")
    group.permissions.add(*codenames[1:4])
    user.groups.add(group)
    other.user_permissions.add(codenames[5])
    for person in (user, other, UserFactory()):
        with django_assert_num_queries(1):
            found = permissions_of(person)
        assert found == {f"{app}.{code}" for app, code in permission_rows(person.pk)}
    assert len(permissions_of(user)) == 4
    group.permissions.add(codenames[4])
    assert len(permissions_of(user)) == 5  # read afresh
