"""Third-party front-end files: pinned, served from a CDN with Subresource Integrity, or locally when offline.

The vendored copies under static/vendor/ are byte-for-byte the CDN files (tests check each hash), so
``ASSETS_OFFLINE=1`` changes only where a browser fetches them from.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for


@dataclass(frozen=True)
class VendoredAsset:
    cdn_url: str
    local_file: str
    integrity: str


VENDORED_ASSETS: dict[str, VendoredAsset] = {
    "htmx": VendoredAsset(
        "https://cdn.jsdelivr.net/npm/htmx.org@2.0.11/dist/htmx.min.js",
        "vendor/htmx-2.0.11.min.js",
        "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg",
    ),
    "sortable": VendoredAsset(
        "https://cdn.jsdelivr.net/npm/sortablejs@1.15.7/Sortable.min.js",
        "vendor/Sortable-1.15.7.min.js",
        "sha384-DgmC6Xe2bSN2WjTDXzWYbUbxyhNP+NNkGDR/g78pCXV7E7rcVTGxVg0uIVCUUcBc",
    ),
    "chartjs": VendoredAsset(
        "https://cdn.jsdelivr.net/npm/chart.js@4.6.1/dist/chart.umd.min.js",
        "vendor/chart-4.6.1.umd.min.js",
        "sha384-Emf5ZVIUiarAdhkgtqK+5/Z5qIvM6QoVrS+qAVtfyZVuD5lIHrac0me485+Antp0",
    ),
    "pico": VendoredAsset(
        "https://cdn.jsdelivr.net/npm/@picocss/pico@2.0.1/css/pico.min.css",
        "vendor/pico-2.0.1.min.css",
        "sha384-Qt6cuhnmazQiMGNt+V97/CZztdR0nibEXb0vv4Bj0TycGOR3nT6bQas3P7uWZunA",
    ),
}


def vendor_asset(name: str) -> dict[str, str | None]:
    """``src``/``href`` and ``integrity`` for a template; no integrity needed for our own origin."""
    asset = VENDORED_ASSETS[name]
    if current_app.config.get("ASSETS_OFFLINE"):
        return {"url": url_for("static", filename=asset.local_file), "integrity": None}
    return {"url": asset.cdn_url, "integrity": asset.integrity}


def cdn_sources(kind: str) -> list[str]:
    """The exact CDN files the Content Security Policy allows, for scripts (``js``) or styles (``css``)."""
    suffix = ".js" if kind == "js" else ".css"
    return [a.cdn_url for a in VENDORED_ASSETS.values() if a.cdn_url.endswith(suffix)]
