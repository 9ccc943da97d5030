"""Route resolution, checked against a naive statement of the rules (hypothesis): the first
matching rule always wins, an ordered rule takes its first capable account, "cheapest" takes the
minimum price among capable accounts, and a number no capable rule takes is refused."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from smsportal.routing.destinations import PrefixMap
from smsportal.routing.prices import PriceTable
from smsportal.routing.routes import Candidate, Router, Rule

ACCOUNTS = [1, 2, 3, 4, 5]
prefixes = st.text(alphabet="96512", min_size=1, max_size=4)
prices = st.decimals(min_value=0, max_value=1, places=2, allow_nan=False)


@st.composite
def setups(draw):
    candidates = {}
    for account in ACCOUNTS:
        table = draw(st.dictionaries(prefixes, prices, max_size=4))
        candidates[account] = Candidate(
            account,
            f"A{account}",
            PriceTable(draw(prices), PrefixMap(table)),
            refusal=draw(st.sampled_from(["", "", "cannot"])),
        )
    rules = draw(
        st.lists(
            st.builds(
                Rule,
                name=st.sampled_from("abcdefgh"),
                prefixes=st.lists(prefixes, max_size=3).map(tuple),
                message_type=st.sampled_from(["", "text", "flash"]),
                cheapest=st.booleans(),
                accounts=st.lists(st.sampled_from(ACCOUNTS), unique=True, max_size=4).map(tuple),
            ),
            max_size=8,
        )
    )
    phones = draw(st.lists(st.text(alphabet="965120", min_size=6, max_size=9), max_size=20))
    return rules, candidates, ["+" + p for p in phones]


def naive_choice(rules, candidates, phone):
    digits = phone[1:]
    for rule in rules:
        if rule.message_type not in ("", "text"):
            continue
        if rule.prefixes and not any(digits.startswith(p) for p in rule.prefixes):
            continue
        capable = [a for a in rule.accounts if not candidates[a].refusal]
        if not capable:
            return None
        if rule.cheapest:
            return min(capable, key=lambda a: candidates[a].prices.price_of(phone))
        return capable[0]
    return None


def naive_price(table: PriceTable, phone: str) -> Decimal:
    matching = [p for p in table.prices.entries if phone[1:].startswith(p)]
    return table.prices.entries[max(matching, key=len)] if matching else table.default


@settings(max_examples=300, deadline=None)
@given(setups())
def test_the_first_matching_rule_wins_and_cheapest_is_the_minimum_among_capable(setup):
    rules, candidates, phones = setup
    router = Router(rules, candidates, message_type="text")
    for phone in phones:
        choice = router.choose(phone)
        assert choice.account == naive_choice(rules, candidates, phone)
        if choice.account is not None:
            assert choice.account not in choice.fallbacks
            assert all(not candidates[a].refusal for a in choice.fallbacks)
    split = router.split(phones)
    assert sum(map(len, split.by_account.values())) + len(split.refused) == len(phones)
    refused = dict(split.refused)
    for phone in phones:
        account = naive_choice(rules, candidates, phone)
        if account is None:
            assert refused[phone] == router.choose(phone).reason
        else:
            assert phone in split.by_account[account]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(prefixes, prices, max_size=6), prices, st.text("965120", min_size=1))
def test_the_longest_matching_price_prefix_wins(table, default, digits):
    prices_ = PriceTable(default, PrefixMap(table))
    assert prices_.price_of("+" + digits) == naive_price(prices_, "+" + digits)


def test_a_rule_whose_accounts_cannot_carry_the_text_refuses_with_the_reason():
    table = PriceTable(Decimal("1"), PrefixMap({}))
    candidates = {
        1: Candidate(1, "KwtSMS", table, refusal="it cannot send flash messages"),
        2: Candidate(2, "ISMS", table),
    }
    rules = [Rule("Kuwait", ("965",), accounts=(1,)), Rule("All", (), accounts=(2,))]
    choice = Router(rules, candidates).choose("+96550000001")
    assert choice.account is None
    assert "Kuwait" in choice.reason
    assert "KwtSMS: it cannot send flash messages" in choice.reason
    # Another number is not caught by that rule and goes by the next.
    assert Router(rules, candidates).choose("+96650000001").account == 2


def test_an_earlier_rule_with_a_shorter_prefix_still_comes_first():
    table = PriceTable(Decimal("1"), PrefixMap({}))
    candidates = {1: Candidate(1, "A", table), 2: Candidate(2, "B", table)}
    rules = [Rule("Kuwait", ("965",), accounts=(1,)), Rule("Mobiles", ("96597",), accounts=(2,))]
    assert Router(rules, candidates).choose("+96597000000").account == 1
