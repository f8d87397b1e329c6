"""Xero: the Accounting API client (client.py) and the identity service (oauth.py)."""
