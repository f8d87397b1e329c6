"""Saving the sync configuration: two first saves at the same moment never both win."""

from __future__ import annotations

import pytest

from portal.extensions import db
from portal.models import SyncConfig
from portal.services import settings as settings_service
from portal.sync.settings import Direction, SyncSettings


def test_two_first_saves_at_once_keep_the_first(acme_admin, monkeypatch):
    tenant = acme_admin.tenant
    theirs = SyncSettings().with_module(Direction.ZOHO_TO_XERO, "Products", enabled=True)
    db.session.add(SyncConfig(tenant_id=tenant.id, settings=theirs.to_json(), revision=1))
    db.session.commit()
    # This save looked before the other one's row existed: it saw no configuration at all.
    real_scalar = db.session.scalar
    looks = iter([None])
    monkeypatch.setattr(db.session, "scalar", lambda *args, **kwargs: next(looks, real_scalar(*args, **kwargs)))
    mine = SyncSettings().with_module(Direction.ZOHO_TO_XERO, "Accounts", enabled=True)
    with pytest.raises(settings_service.SettingsChangedMeanwhile) as raised:
        settings_service.save(tenant, acme_admin, mine, base_revision=0)
    assert raised.value.current.revision == 1
    monkeypatch.undo()
    db.session.expire_all()
    assert settings_service.current(tenant).settings == theirs
