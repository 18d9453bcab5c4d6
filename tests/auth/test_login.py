from tests.conftest import login


def test_viola_logs_in_and_sees_her_name(client, page):
    response = login(client, "viola")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    start = page("/")
    assert start.h1 == "Hej Viola!"
    assert "Inloggad: Viola Andersson" in start.text("header")
