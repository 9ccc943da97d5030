import pytest


@pytest.fixture(autouse=True)
def _no_clock_drift_learning(settings):
    """Codes here are computed a step ahead on purpose (each is usable once). django-otp's
    drift learning would take a code accepted just after a 30-second boundary as a phone clock
    one step behind, and then refuse the next step-ahead code: a flaky test, not a bug."""
    settings.OTP_TOTP_SYNC = False
