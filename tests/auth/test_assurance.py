"""Levels of assurance are configuration: defaults, the environment, production's rules,
and the README's table kept equal to the code."""

from __future__ import annotations

import re

import pytest

from portal.auth.assurance import CITIZEN_DEFAULT, DEV_ACR, LEVELS, STAFF_DEFAULT, level
from portal.config import ConfigError, OIDCClient, Settings, from_env
from tests.auth.test_sessions import _production_env
from tests.conftest import ROOT

LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
UNCERTIFIED_LOA3 = "http://id.swedenconnect.se/loa/1.0/uncertified-loa3"
SUOMI_FI_SUBSTANTIAL = "http://ftn.ficora.fi/2017/loa2"


@pytest.mark.parametrize("acr", [
    LOA3, "http://id.elegnamnden.se/loa/1.0/loa4", UNCERTIFIED_LOA3,
    "http://id.swedenconnect.se/loa/1.0/loa3-nonresident",
    "http://id.elegnamnden.se/loa/1.0/eidas-sub", "http://id.elegnamnden.se/loa/1.0/eidas-nf-high",
    SUOMI_FI_SUBSTANTIAL, "http://ftn.ficora.fi/2017/loa3",
    "http://eidas.europa.eu/LoA/substantial", "http://eidas.europa.eu/LoA/high",
])
def test_citizen_defaults_let_bankid_freja_and_suomi_fi_through(acr):
    assert acr in from_env({}).citizen.accepted_acr
    assert acr in from_env(_production_env()).client("citizen").accepted_acr
    assert level(acr) in {"substantial", "high"}


@pytest.mark.parametrize("acr", [
    "http://id.elegnamnden.se/loa/1.0/loa1", "http://id.elegnamnden.se/loa/1.0/loa2",
    "http://id.swedenconnect.se/loa/1.0/uncertified-loa2",
    "http://id.elegnamnden.se/loa/1.0/eidas-low", "http://eidas.europa.eu/LoA/low",
    "http://id.swedenconnect.se/loa/1.0/uncertified-eidas-sub", "", "loa3",
])
def test_low_or_unknown_levels_are_not_accepted_by_default(acr):
    for name in ("citizen", "staff"):
        assert acr not in Settings().client(name).accepted_acr


def test_staff_default_is_the_certified_levels_only():
    assert Settings().staff.accepted_acr == STAFF_DEFAULT
    assert UNCERTIFIED_LOA3 not in STAFF_DEFAULT
    assert set(STAFF_DEFAULT) <= set(CITIZEN_DEFAULT)


def test_accepted_levels_come_from_the_environment():
    settings = from_env({"PORTAL_CITIZEN_ACCEPTED_ACR": f" {LOA3} ,{SUOMI_FI_SUBSTANTIAL},",
                         "PORTAL_STAFF_ACCEPTED_ACR": LOA3})
    assert settings.citizen.accepted_acr == (LOA3, SUOMI_FI_SUBSTANTIAL)
    assert settings.staff.accepted_acr == (LOA3,)
    assert level("urn:example:own-level") == "unknown"


def test_the_development_level_is_accepted_only_outside_production():
    assert DEV_ACR not in CITIZEN_DEFAULT
    assert DEV_ACR in Settings().client("citizen").accepted_acr
    assert DEV_ACR in Settings().client("staff").accepted_acr
    production = from_env(_production_env())
    assert DEV_ACR not in production.client("citizen").accepted_acr
    assert DEV_ACR not in production.client("staff").accepted_acr


@pytest.mark.parametrize("variable", ["PORTAL_CITIZEN_ACCEPTED_ACR", "PORTAL_STAFF_ACCEPTED_ACR"])
def test_production_refuses_to_accept_the_development_level(variable):
    with pytest.raises(ConfigError, match="development level"):
        from_env(_production_env(**{variable: f"{LOA3},{DEV_ACR}"}))


def test_an_empty_list_is_refused_rather_than_meaning_every_level():
    with pytest.raises(ConfigError, match="PORTAL_STAFF_ACCEPTED_ACR"):
        Settings(staff=OIDCClient("staff", "", "id", "s", accepted_acr=())).check()


def test_readme_table_lists_exactly_the_citizen_defaults_with_their_levels():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Levels of assurance", 1)[1].split("\n\n| `acr`", 1)[1]
    rows = [line for line in section.split("\n\n", 1)[0].splitlines() if line.startswith("| `")]
    listed: dict[str, str] = {}
    for row in rows:
        uris_cell, level_cell = [cell.strip() for cell in row.strip("|").split("|")[:2]]
        uris = re.findall(r"`([^`]+)`", uris_cell)
        full = [u if u.startswith("http") else uris[0].rsplit("/", 1)[0] + "/" + u for u in uris]
        levels = [x.strip() for x in level_cell.split(",")]
        for index, uri in enumerate(full):
            listed[uri] = levels[min(index, len(levels) - 1)]
    assert listed == {uri: LEVELS[uri] for uri in CITIZEN_DEFAULT}
