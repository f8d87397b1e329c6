"""Zoho CRM: the CRM API v8 client (client.py) and the multi-DC accounts server (oauth.py)."""
