"""The console's sign-in and guard: sessions, CSRF, the failed sign-in limit, markup shown as text, and
the token never shown."""

from __future__ import annotations

import logging

import pytest

from bot.web.security import SignInLimiter, TokenMissing, token_from_env, token_matches
from bot.web.server import check_bind
from tests.web.conftest import TOKEN, Console


async def test_pages_without_a_session_redirect_to_login_and_data_answers_401(web: Console) -> None:
    for path in ("/", "/moderation", "/config", "/playground", "/audit", "/groups/demo0%40chatroom"):
        response = await web.client.get(path, allow_redirects=False)
        assert response.status == 302, path
        assert response.headers["Location"].startswith("/login?next=")
    response = await web.client.get("/groups/demo0%40chatroom/purge.csv", allow_redirects=False)
    assert response.status == 401
    response = await web.client.get("/", headers={"Accept": "application/json"}, allow_redirects=False)
    assert response.status == 401


async def test_a_wrong_token_is_refused_and_the_right_one_signs_in(web: Console) -> None:
    with pytest.raises(AssertionError):
        await web.sign_in("not-the-token-at-all")
    assert (await web.client.get("/", allow_redirects=False)).status == 302
    await web.sign_in()
    page = await web.client.get("/", allow_redirects=False)
    assert page.status == 200
    cookie = page.request_info  # the session cookie's flags are checked on the sign-in answer below
    assert cookie is not None


async def test_the_session_cookie_is_httponly_strict_and_expires(web: Console) -> None:
    form = await web.client.get("/login")
    csrf = (await form.text()).split('name="csrf" value="')[1].split('"')[0]
    response = await web.client.post("/login", data={"csrf": csrf, "token": TOKEN}, allow_redirects=False)
    header = next(v for v in response.headers.getall("Set-Cookie") if v.startswith("qunbot_session="))
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Max-Age=" in header
    assert TOKEN not in header


async def test_a_post_without_csrf_is_refused_with_403(signed_in: Console) -> None:
    response = await signed_in.client.post("/logout", data={}, allow_redirects=False)
    assert response.status == 403
    response = await signed_in.client.post("/logout", data={"csrf": "forged"}, allow_redirects=False)
    assert response.status == 403
    csrf = await signed_in.csrf()
    response = await signed_in.client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert response.status == 302
    assert (await signed_in.client.get("/", allow_redirects=False)).status == 302  # signed out


async def test_the_sign_in_form_without_its_csrf_value_is_refused(web: Console) -> None:
    response = await web.client.post("/login", data={"token": TOKEN}, allow_redirects=False)
    assert response.status == 403


async def test_failed_sign_ins_are_limited_per_client(web: Console) -> None:
    statuses = []
    for _ in range(7):
        form = await web.client.get("/login")
        csrf = (await form.text()).split('name="csrf" value="')[1].split('"')[0]
        response = await web.client.post("/login", data={"csrf": csrf, "token": "wrong-token-wrong-token"},
                                         allow_redirects=False)
        statuses.append(response.status)
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
    form = await web.client.get("/login")  # the right token is refused too while the client waits
    csrf = (await form.text()).split('name="csrf" value="')[1].split('"')[0]
    response = await web.client.post("/login", data={"csrf": csrf, "token": TOKEN}, allow_redirects=False)
    assert response.status == 429


def test_the_limiter_forgets_failures_after_the_window_and_stays_bounded() -> None:
    now = [0.0]
    limiter = SignInLimiter(allowed=2, window=10, now=lambda: now[0])
    limiter.failed("a")
    limiter.failed("a")
    assert limiter.blocked_for("a") == 10
    now[0] = 10.5
    assert limiter.blocked_for("a") == 0
    for n in range(20_000):
        limiter.failed(f"client{n}")
    assert len(limiter._failures) <= 10_000


async def test_markup_in_group_names_and_names_is_shown_as_text(signed_in: Console) -> None:
    page = await (await signed_in.client.get("/")).text()
    assert "<script>" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "&lt;script&gt;alert(" in page


async def test_the_token_never_appears_in_a_page_or_a_log_line(signed_in: Console,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for path in ("/", "/login", "/moderation", "/config", "/playground", "/audit", "/groups/demo0%40chatroom",
                 "/no-such-page"):
        text = await (await signed_in.client.get(path)).text()
        assert TOKEN not in text, path
    assert TOKEN not in caplog.text


async def test_answers_carry_a_strict_content_security_policy(signed_in: Console) -> None:
    response = await signed_in.client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]


def test_the_console_refuses_to_start_without_a_token_and_compares_in_constant_time() -> None:
    with pytest.raises(TokenMissing, match="QUNBOT_WEB_TOKEN"):
        token_from_env({})
    with pytest.raises(TokenMissing, match="太短"):
        token_from_env({"QUNBOT_WEB_TOKEN": "short"})
    assert token_from_env({"QUNBOT_WEB_TOKEN": TOKEN}) == TOKEN
    assert token_matches(TOKEN, TOKEN) and not token_matches("口令", TOKEN)


def test_another_address_needs_public() -> None:
    assert check_bind("127.0.0.1", False) is None
    assert check_bind("0.0.0.0", False) is not None and "--public" in check_bind("0.0.0.0", False)
    assert check_bind("0.0.0.0", True) is None


async def test_no_request_chooses_a_file_path(signed_in: Console) -> None:
    for group in ("..%2F..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "demo0%40chatroom%2F..%2F..", "%00"):
        response = await signed_in.client.get(f"/groups/{group}/purge.csv", allow_redirects=False)
        assert response.status == 404, group
    response = await signed_in.client.get("/groups/demo0%40chatroom/purge.csv")
    assert response.status == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "/" not in disposition.split("filename=")[1].split(";")[0]
