"""The database: SQLAlchemy Core tables, narrow query functions per aggregate, the engine and
Alembic migrations. It may import only the records and pure modules below it (models, mail,
webhooks, webauthn, errors, ids); never a service."""
