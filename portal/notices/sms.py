"""SMS through one small adapter for 46elks' HTTP API (a common Nordic SMS provider).

The API, as this adapter uses it (46elks, "Send SMS"):

    POST {PORTAL_SMS_URL}/a1/sms           e.g. https://api.46elks.com/a1/sms
    Authorization: Basic (PORTAL_SMS_USER = API username, PORTAL_SMS_PASSWORD = API password)
    Content-Type: application/x-www-form-urlencoded
        from     PORTAL_SMS_SENDER: 3-11 letters and digits starting with a letter
                 ("SIPportal"), or a phone number in E.164
        to       the recipient in E.164, e.g. +46701234567 or +358401234567
        message  the text (plain; never a name, a unit or message text: portal.notices.outbox)
    200 OK, JSON: {"id": "s70df59406a1b4643b96f3f91e0bfb7b0", "status": "created", ...}
    4xx: a plain-text reason (bad number, bad sender, wrong credentials); 5xx: the provider is down.

An empty PORTAL_SMS_URL means no SMS: the settings page says SMS is not available
and no SMS is queued. Production refuses an http:// URL (portal.config).

`send` raises `SMSUnavailable` when the provider cannot take the message now (network
error, timeout, 5xx, 429, 401/403 while credentials are being fixed): the outbox retries
later. It raises `SMSRejected` when the provider will never take it (another 4xx,
e.g. a number it does not accept): the outbox stops trying.

`normalise_mobile` turns what a person types ("070-123 45 67", "040 123 4567",
"+358 40 1234567") into E.164 with the `phonenumbers` library, for mobile numbers only.
"""

from __future__ import annotations

import re

import httpx
import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from portal.config import Settings
from portal.core.i18n import N_
from portal.core.inputs import BadInput

# 46elks: an alphanumeric sender of 3-11 characters starting with a letter, or a number.
SENDER = re.compile(r"[A-Za-z][A-Za-z0-9]{2,10}|\+[1-9][0-9]{6,14}", re.ASCII)
TIMEOUT = 10.0
PHONE_MAX = 30
# What a phone number may be typed with: digits, a leading +, spaces, dashes, dots, brackets.
_TYPED = re.compile(r"\+?[0-9 ()./-]{5,30}", re.ASCII)
_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}

PHONE_FORMAT = N_("Skriv ditt mobilnummer med siffror, till exempel 070-123 45 67.")
PHONE_NOT_MOBILE = N_("Numret är inte ett mobilnummer. Skriv ett mobilnummer, till exempel "
                      "070-123 45 67.")


class SMSUnavailable(Exception):
    """The provider could not take the message now; try again later."""


class SMSRejected(Exception):
    """The provider refused the message for good (e.g. a number it does not accept)."""


def normalise_mobile(value: str, country: str) -> str:
    """The mobile number `value` in E.164 ("+46701234567"). A number without a country
    code is read as one of `country` ("SE" or "FI", the person's). Raises BadInput with
    PHONE_FORMAT for anything that is not a valid number, PHONE_NOT_MOBILE for a valid
    fixed-line number."""
    text = value.strip()
    if not _TYPED.fullmatch(text):
        raise BadInput(PHONE_FORMAT)
    try:
        number = phonenumbers.parse(text, country)
    except NumberParseException:
        raise BadInput(PHONE_FORMAT) from None
    if not phonenumbers.is_valid_number(number):
        raise BadInput(PHONE_FORMAT)
    if phonenumbers.number_type(number) not in _MOBILE:
        raise BadInput(PHONE_NOT_MOBILE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def shown_number(e164: str) -> str:
    """An E.164 number as people write it in its country ("070-123 45 67", "040 1234567")."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(e164, None),
                                          phonenumbers.PhoneNumberFormat.NATIONAL)
    except NumberParseException:
        return e164


async def send(settings: Settings, to: str, message: str,
               transport: httpx.AsyncBaseTransport | None = None) -> str:
    """Send `message` to `to` (E.164) through the configured provider; return its id.
    Raises SMSUnavailable (retry later) or SMSRejected (never). Neither carries the
    number or the text, so logging them is safe."""
    if not settings.sms_enabled:
        raise SMSUnavailable("no SMS provider configured")
    try:
        async with httpx.AsyncClient(transport=transport, timeout=TIMEOUT) as client:
            response = await client.post(
                f"{settings.sms_url}/a1/sms",
                data={"from": settings.sms_sender, "to": to, "message": message},
                auth=(settings.sms_user, settings.sms_password))
    except httpx.HTTPError as exc:
        raise SMSUnavailable(type(exc).__name__) from None
    status = response.status_code
    if status >= 500 or status in (401, 403, 408, 429):
        raise SMSUnavailable(f"HTTP {status}")
    if status >= 400:
        raise SMSRejected(f"HTTP {status}")
    try:
        answer = response.json()
    except ValueError:
        raise SMSUnavailable("not JSON") from None
    if not isinstance(answer, dict) or not answer.get("id") or answer.get("status") == "failed":
        raise SMSUnavailable("unexpected answer")
    return str(answer["id"])
