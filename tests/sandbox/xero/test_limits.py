"""Xero's four rate limits in the sandbox, with their headers, on the sandbox clock (FACTS.md §2)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.sandbox.xero.helpers import AU, NZ, UK


def remaining(response) -> tuple[int, int, int]:
    return (int(response.headers["X-DayLimit-Remaining"]), int(response.headers["X-MinLimit-Remaining"]),
            int(response.headers["X-AppMinLimit-Remaining"]))


def test_every_tenant_call_reports_what_is_left(xero):
    first = xero.get("/Contacts")
    second = xero.get("/Invoices")
    assert remaining(first) == (4999, 59, 9999)
    assert remaining(second) == (4998, 58, 9998)
    refused = xero.put("/Contacts", {"Contacts": [{"Name": "Bayside Club"}]})
    assert refused.status_code == 400 and remaining(refused) == (4997, 57, 9997)


def test_minute_limit_answers_429_until_the_window_moves(sandbox, xero):
    for _ in range(60):
        assert xero.get("/Organisation").status_code == 200
    limited = xero.get("/Organisation")
    assert limited.status_code == 429
    assert limited.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert remaining(limited)[1] == 0
    xero.tenant = UK  # the limit is per organisation
    assert xero.get("/Organisation").status_code == 200
    xero.tenant = NZ
    sandbox.xero.clock(advance_seconds=61)
    assert xero.get("/Organisation").status_code == 200
    assert sandbox.xero.stats()["rate_limited"] == 1


def test_retry_after_is_in_real_seconds_when_the_clock_runs_fast(sandbox, xero):
    sandbox.xero.clock(scale=10)
    for _ in range(60):
        xero.get("/Organisation")
    limited = xero.get("/Organisation")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) <= 6  # a sandbox minute is 6 s


def test_daily_limit_is_per_organisation_and_starter_orgs_get_1000(sandbox, mint):
    starter = mint(tenant=AU)
    assert remaining(starter.get("/Organisation"))[0] == 999
    sandbox.xero.call("POST", f"orgs/{NZ}", {"daily_limit": 3})
    api = mint()
    for _ in range(3):
        assert api.get("/Organisation").status_code == 200
    limited = api.get("/Organisation")
    assert (limited.status_code, limited.headers["X-Rate-Limit-Problem"]) == (429, "day")
    assert remaining(limited)[0] == 0
    sandbox.xero.clock(advance_seconds=3600)
    assert mint().get("/Organisation").status_code == 429  # a rolling 24 hours, not a minute (new token: 30 min)
    sandbox.xero.clock(advance_seconds=86_400)
    assert mint().get("/Organisation").status_code == 200


def test_five_calls_in_flight_per_organisation(sandbox, xero):
    sandbox.xero.call("POST", "limits", {"latency_seconds": 1.0})
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: xero.get("/Organisation", timeout=20), range(6)))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * 5 + [429]
    limited = next(answer for answer in answers if answer.status_code == 429)
    assert limited.headers["X-Rate-Limit-Problem"] == "concurrent"


def test_app_minute_limit_spans_organisations(sandbox, xero):
    # 10,000 calls are too many for a unit test: the limits control lowers the app-wide limit.
    sandbox.xero.call("POST", "limits", {"app_per_minute": 4})
    for tenant in (NZ, UK, AU, NZ):
        xero.tenant = tenant
        assert xero.get("/Organisation").status_code == 200
    xero.tenant = UK
    limited = xero.get("/Organisation")
    assert (limited.status_code, limited.headers["X-Rate-Limit-Problem"]) == (429, "appminute")
    assert remaining(limited)[2] == 0 and int(limited.headers["Retry-After"]) >= 1
    connections = xero.connections()
    assert connections.status_code == 429  # /connections counts against the app too
    sandbox.xero.clock(advance_seconds=61)
    assert xero.get("/Organisation").status_code == 200


def test_reset_restores_the_documented_limits(sandbox):
    sandbox.xero.call("POST", "limits", {"per_minute": 5, "concurrent": 1})
    sandbox.xero.reset()
    assert sandbox.xero.call("GET", "limits")["settings"] == {
        "per_minute": 60, "concurrent": 5, "app_per_minute": 10_000, "latency_seconds": 0.0}
