"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from portal import create_app
from portal.extensions import db
from portal.models import Base


def test_models_and_migrations_agree(app):
    # What `flask db check` does: autogenerate against the migrated database must find nothing to do.
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "render_as_batch": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "a model changed without a migration: run `flask --app portal db migrate`"


def test_migrations_go_down_and_up_again(tmp_path, settings):
    # On a database of its own: the shared one stays at head for the other tests.
    scratch = create_app(settings.with_overrides(database_url=f"sqlite:///{tmp_path / 'scratch.db'}"))
    with scratch.app_context():
        upgrade()
        assert {"tenant", "user_account", "invitation"} <= set(inspect(db.engine).get_table_names())
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert {"tenant", "user_account", "invitation"} <= set(inspect(db.engine).get_table_names())
        db.engine.dispose()
