"""Levels of assurance: which `acr` values a login accepts, and what each means.

The accepted values are configuration (`PORTAL_CITIZEN_ACCEPTED_ACR`,
`PORTAL_STAFF_ACCEPTED_ACR`, comma-separated URIs; see the README's table).
The defaults below let through the e-IDs people in Sweden and Finland use for
health and care services, as the common brokers name them:

- Sweden: DIGG's trust framework (tillitsramverket) level 3 and 4, and Sweden
  Connect's identifiers for uncertified brokers of a level-3 e-ID (BankID
  through a broker not reviewed by DIGG), for level-3/4 e-IDs held by people
  without a Swedish number, and for foreign eIDAS e-IDs at substantial/high
  (Sweden Connect "Registry for identifiers", section 3.1.1).
- Finland: the Finnish Trust Network levels of Traficom (formerly Ficora)
  that Suomi.fi e-Identification sends: loa2 (substantial: bank codes, the
  mobile certificate), loa3 (high: certificate card), and eIDAS
  substantial/high for foreign e-IDs through the Finnish eIDAS node.

This module imports nothing from the portal: the settings read it.
"""

from __future__ import annotations

SUBSTANTIAL = "substantial"
HIGH = "high"

# Known acceptable URIs -> eIDAS level (what the audit log records).
LEVELS: dict[str, str] = {
    "http://id.elegnamnden.se/loa/1.0/loa3": SUBSTANTIAL,
    "http://id.elegnamnden.se/loa/1.0/loa4": HIGH,
    "http://id.swedenconnect.se/loa/1.0/uncertified-loa3": SUBSTANTIAL,
    "http://id.swedenconnect.se/loa/1.0/loa3-nonresident": SUBSTANTIAL,
    "http://id.swedenconnect.se/loa/1.0/loa4-nonresident": HIGH,
    "http://id.elegnamnden.se/loa/1.0/eidas-sub": SUBSTANTIAL,
    "http://id.elegnamnden.se/loa/1.0/eidas-nf-sub": SUBSTANTIAL,
    "http://id.elegnamnden.se/loa/1.0/eidas-high": HIGH,
    "http://id.elegnamnden.se/loa/1.0/eidas-nf-high": HIGH,
    "http://ftn.ficora.fi/2017/loa2": SUBSTANTIAL,
    "http://ftn.ficora.fi/2017/loa3": HIGH,
    "http://eidas.europa.eu/LoA/substantial": SUBSTANTIAL,
    "http://eidas.europa.eu/LoA/high": HIGH,
}

# The development identity provider's own value. It stands in for a
# substantial login, and is accepted only outside production
# (Settings.client adds it; Settings.check refuses it in production).
DEV_ACR = "urn:x-sip-portal:dev-idp:loa3"
LEVELS[DEV_ACR] = SUBSTANTIAL

CITIZEN_DEFAULT: tuple[str, ...] = tuple(uri for uri in LEVELS if uri != DEV_ACR)

# Staff log in with their employer's e-ID (SITHS in Swedish health care, the
# health-care professional card or bank codes in Finland): certified levels only.
STAFF_DEFAULT: tuple[str, ...] = (
    "http://id.elegnamnden.se/loa/1.0/loa3",
    "http://id.elegnamnden.se/loa/1.0/loa4",
    "http://ftn.ficora.fi/2017/loa2",
    "http://ftn.ficora.fi/2017/loa3",
)


def level(acr: str | None) -> str:
    """'substantial', 'high', or 'unknown' for a value configured by hand."""
    return LEVELS.get(acr or "", "unknown")
