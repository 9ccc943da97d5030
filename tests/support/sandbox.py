"""The sandbox on free ports for tests that speak real protocols over real sockets (every test
directory may use these fixtures: the root conftest imports them)."""

from __future__ import annotations

import pytest

from smsportal.providers.backends.smpp_link import close_links
from smsportal.providers.models import ProviderAccount
from smsportal.providers.sandbox.server import Sandbox
from smsportal.providers.sandbox.world import demo_password
from tests.support.postgres import free_port

PATHS = {
    "kwtsms": "/API/",
    "isms": "/websmsapi/",
    "intellisoftware": "/smsgateway/sendmsg.aspx",
    "kalasms": "/core/smsdo.aspx",
}


@pytest.fixture(scope="session")
def _running_sandbox():
    sandbox = Sandbox(http_port=0, smtp_port=free_port(), smpp_port=0, push_delay=0.05).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def sandbox(_running_sandbox):
    # Worker processes keep their SMPP links bound; each test starts with none.
    close_links()
    _running_sandbox.world.reset()
    _running_sandbox.smpp.reset()
    yield _running_sandbox
    close_links()


@pytest.fixture
def sandbox_account(db, sandbox):
    """A portal account of `kind` on the sandbox's demo account of that kind."""

    def make(kind: str, **fields) -> ProviderAccount:
        if kind == "smscentre":
            address = f"smpp://{sandbox.host}:{sandbox.smpp.port}"
        else:
            address = sandbox.url + PATHS[kind]
        account = ProviderAccount(
            **{"name": f"{kind} on the sandbox", **fields},
            kind=kind,
            base_url=address,
            username=f"demo-{kind}",
        )
        account.password = demo_password(kind)
        account.save()
        return account

    return make
