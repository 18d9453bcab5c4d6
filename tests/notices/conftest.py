"""Fixtures for the notice tests: a real SMTP server (aiosmtpd, tests/notices/test_outbox.py),
a local server speaking 46elks' SMS API (tests.notices.servers.py), and an app that
sends through both."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from tests.conftest import BASE_URL, build_app
from tests.notices.servers import PASSWORD, USER, SMSServer, SMTPServer
from tests.processes import free_port


@pytest.fixture
def sms_server():
    server = SMSServer()
    yield server
    server.stop()


@pytest.fixture
def both_settings(settings, smtp, sms_server):
    return settings.with_(smtp_host="127.0.0.1", smtp_port=smtp.port, sms_url=sms_server.url,
                          sms_user=USER, sms_password=PASSWORD, sms_sender="SIPportal",
                          # The tests send the outbox themselves (deliver_due, with the clock
                          # moved on): the app's own background round would race them.
                          outbox_worker=False)


@pytest.fixture
def notice_client(both_settings):
    """An app that sends e-mail to `smtp` and SMS to `sms_server` (both started by the test)."""
    with TestClient(build_app(both_settings), base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
def smtp():
    server = SMTPServer(free_port())
    yield server
    server.stop()
