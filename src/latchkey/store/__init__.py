"""SQLAlchemy Core tables, narrow query functions per aggregate, and Alembic migrations."""
