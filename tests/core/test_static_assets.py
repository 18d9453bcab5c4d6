"""Static files under fingerprinted URLs (portal.core.assets) and compressed responses."""

from __future__ import annotations

import gzip
import re
import shutil

import brotli
import pytest
from bs4 import BeautifulSoup

from portal.app import STATIC_DIR
from portal.core.assets import IMMUTABLE, SHORT, Assets, accepted_coding, fingerprinted_name
from tests.conftest import Page, login
from tests.shared_app import app, client, module_client, settings  # noqa: F401

HASHED = re.compile(r"^/static/css/portal\.[0-9a-f]{12}\.css$")


def raw_get(client, url: str, encoding: str = "gzip"):
    """(response, the bytes as sent): httpx would otherwise decompress them."""
    with client.stream("GET", url, headers={"accept-encoding": encoding}) as response:
        return response, b"".join(response.iter_raw())


def test_the_name_carries_a_hash_of_the_content():
    assert fingerprinted_name("css/portal.css", b"a") != fingerprinted_name("css/portal.css", b"b")
    assert re.fullmatch(r"vendor/htmx-2\.0\.11\.min\.[0-9a-f]{12}\.js",
                        fingerprinted_name("vendor/htmx-2.0.11.min.js", b"x"))
    assert re.fullmatch(r"LICENSE\.[0-9a-f]{12}", fingerprinted_name("LICENSE", b"x"))


def test_a_changed_file_gets_a_new_url_and_the_old_one_is_gone(tmp_path):
    (tmp_path / "css").mkdir()
    css = tmp_path / "css" / "site.css"
    css.write_text("body { color: black }")
    (tmp_path / ".hidden").write_text("not served")
    before = Assets(tmp_path)
    old = before.url("css/site.css")
    assert old.startswith("/static/css/site.") and old.endswith(".css")
    file, immutable = before.resolve(old.removeprefix("/static/"))
    assert (file.path, file.body, immutable) == (css.resolve(), css.read_bytes(), True)
    file, immutable = before.resolve("css/site.css")  # the plain name: a short cache
    assert (file.path, immutable) == (css.resolve(), False)

    css.write_text("body { color: navy }")
    after = Assets(tmp_path)
    new = after.url("css/site.css")
    assert new != old
    assert after.resolve(old.removeprefix("/static/")) is None  # an old hash is a 404
    assert after.resolve(new.removeprefix("/static/"))[0].body == b"body { color: navy }"
    for unknown in (".hidden", "css/site.000000000000.css", "../pyproject.toml", "css"):
        assert after.resolve(unknown) is None, unknown
    with pytest.raises(LookupError):
        after.url("css/missing.css")


def test_pages_link_fingerprinted_files_cached_for_a_year(client):
    login(client, "viola")
    page = Page(client.get("/"))
    stylesheet = page.select_one('link[rel="stylesheet"]')["href"]
    assert HASHED.match(stylesheet), stylesheet
    response = client.get(stylesheet)
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE
    assert response.content == (STATIC_DIR / "css" / "portal.css").read_bytes()
    plain = client.get("/static/css/portal.css")
    assert plain.status_code == 200 and plain.headers["cache-control"] == SHORT
    assert plain.content == response.content


def test_an_unknown_hash_is_a_plain_404(client):
    response = client.get("/static/css/portal.0123456789ab.css")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"


def test_a_changed_file_is_served_under_its_new_name_only(app, client, tmp_path):
    static = tmp_path / "static"
    shutil.copytree(STATIC_DIR, static)
    css = static / "css" / "portal.css"
    css.write_text("body { color: black }")
    served = app.state.assets
    try:
        app.state.assets = Assets(static)
        old = Page(client.get("/")).select_one('link[rel="stylesheet"]')["href"]
        css.write_text("body { color: navy }")
        app.state.assets = Assets(static)
        new = Page(client.get("/")).select_one('link[rel="stylesheet"]')["href"]
        assert old != new
        assert client.get(old).status_code == 404
        fresh = client.get(new)
        assert fresh.status_code == 200 and fresh.text == "body { color: navy }"
        assert fresh.headers["cache-control"] == IMMUTABLE
    finally:
        app.state.assets = served


def test_accepted_coding():
    assert accepted_coding("gzip, deflate, br, zstd") == "br"
    assert accepted_coding("gzip;q=1.0, br;q=0") == "gzip"
    assert accepted_coding("identity") is None
    assert accepted_coding("") is None


@pytest.mark.parametrize("coding, decompress", [("br", brotli.decompress),
                                                ("gzip", gzip.decompress)])
def test_static_files_are_sent_compressed(client, coding, decompress):
    login(client, "viola")
    page = Page(client.get("/"))
    first_visit = len(raw_get(client, "/", f"gzip, deflate, {coding}")[1])  # the page itself
    for node in [*page.select("script[src]"), *page.select('link[rel="stylesheet"]')]:
        url = node.get("src") or node["href"]
        response, raw = raw_get(client, url, f"gzip, deflate, {coding}")
        assert response.status_code == 200, url
        assert response.headers["content-encoding"] == coding, url
        assert "accept-encoding" in response.headers["vary"].lower(), url
        name = re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", url.removeprefix("/static/"))
        assert decompress(raw) == (STATIC_DIR / name).read_bytes(), url
        assert int(response.headers["content-length"]) == len(raw)
        first_visit += len(raw)
    if coding == "br":  # the target for a phone's first visit
        assert first_visit < 30 * 1024, first_visit


def test_head_of_a_static_file_has_no_body(client):
    response = client.head("/static/css/portal.css")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == "text/css; charset=utf-8"


@pytest.mark.parametrize("accept, coding, decompress", [
    ("gzip, deflate, br", "br", brotli.decompress), ("gzip", "gzip", gzip.decompress)])
def test_a_page_is_sent_compressed_and_still_not_stored(client, accept, coding, decompress):
    login(client, "viola")
    response, raw = raw_get(client, "/samtycke", accept)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == coding
    assert response.headers["cache-control"] == "no-store"
    html = decompress(raw)
    assert html.decode().lstrip().startswith("<!DOCTYPE html>")
    plain = Page(client.get("/samtycke", headers={"accept-encoding": "identity"}))
    assert BeautifulSoup(html, "html.parser").h1.get_text(" ", strip=True) == plain.h1
    assert len(raw) < len(html) / 2


def test_tiny_and_unasked_responses_are_not_compressed(client):
    response, raw = raw_get(client, "/healthz")
    assert "content-encoding" not in response.headers
    assert raw == b'{"status":"ok"}'
    response, raw = raw_get(client, "/", encoding="identity")
    assert "content-encoding" not in response.headers
    assert raw.decode().lstrip().startswith("<!DOCTYPE html>")
