"""One app per module and backend, for modules that log in many times.

Building an app costs more than a login; every test still starts with an
empty cookie jar, so no test sees another's session. Use it with
`from tests.shared_app import app, client, module_client, settings  # noqa: F401`.
"""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from portal.config import Settings
from tests.conftest import BASE_URL, build_app


@pytest.fixture(scope="module")
def settings(database_url, dev_key_file, demo_ids) -> Settings:
    return Settings(base_url=BASE_URL, database_url=database_url, session_dir=":memory:",
                    allowed_hosts=("testserver.local",), dev_idp_key_file=dev_key_file,
                    login_rate_limit=1000)


@pytest.fixture(scope="module")
def app(settings):
    return build_app(settings)


@pytest.fixture(scope="module")
def module_client(app):
    with TestClient(app, base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
def client(module_client):
    module_client.cookies.clear()
    return module_client
