"""Connectors: one package per remote system (zoho/, xero/) over shared plumbing, raising the errors in
errors.py."""
