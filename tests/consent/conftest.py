"""One app per module for the consent tests (building one per test costs more than the test).

Each test still starts signed out: the cookies are cleared before it runs.
"""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from portal.config import Settings
from tests.conftest import BASE_URL, build_app


@pytest.fixture(scope="module")
def module_client(database_url, dev_key_file, demo_ids):
    settings = Settings(base_url=BASE_URL, database_url=database_url, session_dir=":memory:",
                        allowed_hosts=("testserver.local",), dev_idp_key_file=dev_key_file,
                        login_rate_limit=100_000)
    with TestClient(build_app(settings), base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
def client(module_client):
    module_client.cookies.clear()
    yield module_client
    module_client.cookies.clear()
