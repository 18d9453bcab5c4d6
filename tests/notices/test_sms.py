"""The SMS adapter (46elks' API) against a local server, mobile numbers, and its settings."""

from __future__ import annotations

import asyncio

import pytest

from portal.config import ConfigError, Settings, from_env
from portal.core.inputs import BadInput
from portal.notices import sms
from tests.notices.servers import PASSWORD, USER


@pytest.mark.parametrize(("typed", "country", "e164"), [
    ("070-123 45 67", "SE", "+46701234567"),
    ("0701234567", "SE", "+46701234567"),
    ("+46 70 123 45 67", "SE", "+46701234567"),
    ("073 987 65 43", "SE", "+46739876543"),
    ("040 123 4567", "FI", "+358401234567"),
    ("050-123 4567", "FI", "+358501234567"),
    ("+358 40 1234567", "SE", "+358401234567"),  # a Finnish number for someone in Sweden
    ("+46701234567", "FI", "+46701234567"),
    ("  070 123 45 67 ", "SE", "+46701234567"),
])
def test_mobile_numbers_are_stored_in_e164(typed, country, e164):
    assert sms.normalise_mobile(typed, country) == e164


@pytest.mark.parametrize(("typed", "message"), [
    ("", sms.PHONE_FORMAT),
    ("hej", sms.PHONE_FORMAT),
    ("070-123", sms.PHONE_FORMAT),
    ("070 123 45 67 89 00", sms.PHONE_FORMAT),
    ("٠٧٠١٢٣٤٥٦٧", sms.PHONE_FORMAT),  # Arabic-Indic digits
    ("070\n1234567", sms.PHONE_FORMAT),
    ("+46 70 123 45 67\u202e", sms.PHONE_FORMAT),
    ("0480-123 45", sms.PHONE_NOT_MOBILE),  # Kalmar, a fixed line
    ("08-123 456 78", sms.PHONE_NOT_MOBILE),
    ("1" * 200, sms.PHONE_FORMAT),
])
def test_what_is_not_a_mobile_number_gets_a_plain_error(typed, message):
    with pytest.raises(BadInput) as caught:
        sms.normalise_mobile(typed, "SE")
    assert caught.value.message == message


def test_a_number_is_shown_as_people_write_it():
    assert sms.shown_number("+46701234567") == "070-123 45 67"
    assert sms.shown_number("+358401234567") == "040 1234567"


def configured(server_url: str, **changes) -> Settings:
    return Settings(sms_url=server_url, sms_user=USER, sms_password=PASSWORD,
                    sms_sender="SIPportal").with_(**changes)


def test_an_sms_reaches_the_server_with_the_api_s_fields(sms_server):
    settings = configured(sms_server.url)
    sms_id = asyncio.run(sms.send(settings, "+46701234567", "SIP-portalen: Hej."))
    assert sms_id.startswith("s")
    [received] = sms_server.received
    assert (received.sender, received.to, received.message) == ("SIPportal", "+46701234567",
                                                               "SIP-portalen: Hej.")


def test_wrong_credentials_and_an_outage_are_retried_later_a_refused_number_never(sms_server):
    with pytest.raises(sms.SMSUnavailable):
        asyncio.run(sms.send(configured(sms_server.url, sms_password="wrong"), "+46701234567", "x"))
    sms_server.down = True
    with pytest.raises(sms.SMSUnavailable):
        asyncio.run(sms.send(configured(sms_server.url), "+46701234567", "x"))
    sms_server.down = False
    with pytest.raises(sms.SMSRejected):
        asyncio.run(sms.send(configured(sms_server.url), "0701234567", "x"))  # not E.164
    with pytest.raises(sms.SMSUnavailable):  # nothing listens there
        asyncio.run(sms.send(configured("http://127.0.0.1:9"), "+46701234567", "x"))
    with pytest.raises(sms.SMSUnavailable):
        asyncio.run(sms.send(Settings(), "+46701234567", "x"))  # no provider
    assert sms_server.received == []


def test_sms_is_configured_by_environment_variables():
    settings = from_env({"PORTAL_SMS_URL": "https://api.46elks.com/", "PORTAL_SMS_USER": "u1",
                         "PORTAL_SMS_PASSWORD": "p1", "PORTAL_SMS_SENDER": "Vasa"})
    assert settings.sms_enabled
    assert (settings.sms_url, settings.sms_user, settings.sms_password, settings.sms_sender) == (
        "https://api.46elks.com", "u1", "p1", "Vasa")
    assert not from_env({}).sms_enabled


@pytest.mark.parametrize("sender", ["", "SI", "SIPportalen1", "1SIP", "SIP-portal", "SIP portal",
                                    "+46"])
def test_a_sender_the_api_would_refuse_stops_the_start(sender):
    with pytest.raises(ConfigError):
        from_env({"PORTAL_SMS_URL": "https://api.46elks.com", "PORTAL_SMS_USER": "u",
                  "PORTAL_SMS_PASSWORD": "p", "PORTAL_SMS_SENDER": sender})


@pytest.mark.parametrize("sender", ["SIP", "SIPportalen", "Vasa2026", "+46701234567"])
def test_senders_the_api_takes(sender):
    assert configured("https://api.46elks.com", sms_sender=sender).check()


def test_sms_needs_credentials_and_https_in_production():
    with pytest.raises(ConfigError):
        from_env({"PORTAL_SMS_URL": "https://api.46elks.com"})
    with pytest.raises(ConfigError, match="PORTAL_SMS_URL must use https"):
        configured("http://sms.example.se", env="production").check()
