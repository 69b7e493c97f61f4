"""Import batches: what each import created or changed, so it can be reverted."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime, utcnow


class ImportBatch(SQLModel, table=True):
    """One run of an import: its file, its outcome and whether it was reverted."""

    __tablename__ = "import_batch"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20, index=True)
    filename: str = Field(max_length=255)
    source_format: str = Field(max_length=20)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_by_name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    rejected: int = 0
    warnings: int = 0
    reverted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reverted_by_name: str | None = Field(default=None, max_length=100)


class ImportItem(SQLModel, table=True):
    """A record an import created or updated (with its values before, for updates)."""

    __tablename__ = "import_item"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="import_batch.id", index=True)
    entity: str = Field(max_length=30)
    entity_id: int
    action: str = Field(max_length=10)
    before: str | None = Field(default=None, max_length=20000)
    version_after: int | None = None
