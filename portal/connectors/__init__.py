"""One package per remote system (zoho/, xero/) over shared plumbing (base.py, pacing.py, errors.py)."""
