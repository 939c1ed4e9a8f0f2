"""Persistence: SQLAlchemy models, the async database, repositories and Alembic migrations."""
