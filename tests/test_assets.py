"""Pinned front-end files: the vendored copies are the CDN's bytes, served locally only when offline."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from portal.config import PROJECT_ROOT
from portal.web.assets import VENDORED_ASSETS
from tests.conftest import sign_in


@pytest.mark.parametrize("name", sorted(VENDORED_ASSETS))
def test_each_vendored_file_matches_its_integrity_hash(name):
    asset = VENDORED_ASSETS[name]
    algorithm, _, expected = asset.integrity.partition("-")
    content = (PROJECT_ROOT / "static" / asset.local_file).read_bytes()
    assert base64.b64encode(hashlib.new(algorithm, content).digest()).decode() == expected
    # The file name carries the version the CDN URL pins, so an upgrade changes both or neither.
    version = re.search(r"@([\d.]+)/", asset.cdn_url).group(1)
    assert version in asset.local_file


def test_nothing_unpinned_hides_in_the_vendor_folder():
    on_disk = {path.name for path in (PROJECT_ROOT / "static" / "vendor").iterdir()}
    assert on_disk == {asset.local_file.removeprefix("vendor/") for asset in VENDORED_ASSETS.values()}


def test_offline_pages_load_the_local_copies(app, client, acme_admin):
    assert app.config["ASSETS_OFFLINE"]
    sign_in(client, acme_admin)
    html = client.get("/").get_data(as_text=True)
    assert "cdn.jsdelivr.net" not in html
    for name in ("htmx", "sortable", "pico"):
        local = f"/static/{VENDORED_ASSETS[name].local_file}"
        assert f'"{local}"' in html, name
        assert client.get(local).status_code == 200


def test_online_pages_load_the_cdn_files_with_integrity(app, client, acme_admin, monkeypatch):
    monkeypatch.setitem(app.config, "ASSETS_OFFLINE", False)
    sign_in(client, acme_admin)
    html = client.get("/").get_data(as_text=True)
    assert "/static/vendor/" not in html
    for name in ("htmx", "sortable", "pico"):
        asset = VENDORED_ASSETS[name]
        tag = re.search(rf'<(?:script|link)[^>]*"{re.escape(asset.cdn_url)}"[^>]*>', html)
        assert tag, name
        assert f'integrity="{asset.integrity}"' in tag.group(0) and 'crossorigin="anonymous"' in tag.group(0)


def test_htmx_requests_carry_the_csrf_token_from_the_body(client, acme_admin):
    sign_in(client, acme_admin)
    html = client.get("/").get_data(as_text=True)
    assert re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"[^\"]+\"\}'>", html)
