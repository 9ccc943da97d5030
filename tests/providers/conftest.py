"""Provider tests: the sandbox fixtures come from tests/support/sandbox.py (via the root conftest);
`wire` catches requests at the HTTP choke point."""

from tests.providers.wire import wire  # noqa: F401  (fixture)
