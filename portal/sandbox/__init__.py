"""Local emulators of the Zoho CRM and Xero APIs, served by ``flask --app portal sandbox serve``.

They import nothing from the rest of the portal: the portal talks to them over HTTP only, exactly as it talks to
the real services. See ``portal/sandbox/core/server.py`` for the shared server and control API.
"""

from portal.sandbox.core.server import create_sandbox_app

__all__ = ["create_sandbox_app"]
