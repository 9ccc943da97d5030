from __future__ import annotations

import pytest

from tests.credits.fakes import FakeProvider, install


@pytest.fixture
def provider(monkeypatch) -> FakeProvider:
    return install(monkeypatch)
