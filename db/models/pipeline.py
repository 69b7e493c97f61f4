"""Tables of the pipeline area: pipelines, stages, deals, stage history, lost reasons."""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import BigInteger, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from db.core.types import UTCDateTime, utcnow

CURRENCIES = ("GBP", "EUR", "USD")


class DealStatus(StrEnum):
    """Where a deal stands."""

    open = "open"
    won = "won"
    lost = "lost"


class Pipeline(SQLModel, table=True):
    """A named sales process with its own ordered stages."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    currency: str = Field(default="GBP", max_length=3)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Stage(SQLModel, table=True):
    """A step of a pipeline, with a default win probability and a rotting threshold."""

    __table_args__ = (UniqueConstraint("pipeline_id", "name", name="uq_stage_pipeline_name"),)

    id: int | None = Field(default=None, primary_key=True)
    pipeline_id: int = Field(foreign_key="pipeline.id", index=True)
    name: str = Field(max_length=80)
    position: int = Field(default=0)
    probability: int = Field(default=10, ge=0, le=100)
    rotting_days: int | None = Field(default=None, ge=1)
    is_active: bool = Field(default=True)
    # When the stage was added to a pipeline already in use (None: one of the pipeline's
    # first stages). No deal moved before then can have passed it.
    added_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LostReason(SQLModel, table=True):
    """One entry of the configurable list a lost deal must choose from."""

    __tablename__ = "lost_reason"

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(max_length=100, unique=True)
    is_active: bool = Field(default=True)


class DealBase(SQLModel):
    title: str = Field(max_length=200)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    amount: Decimal = Field(default=Decimal("0"), sa_type=Numeric(14, 2))
    currency: str = Field(default="GBP", max_length=3)
    probability_override: int | None = Field(default=None, ge=0, le=100)
    expected_close: date | None = None
    source: str | None = Field(default=None, max_length=60)
    notes: str | None = Field(default=None, max_length=5000)
    # The id the deal has in the system it was imported from (HubSpot, Salesforce).
    external_ref: str | None = Field(default=None, max_length=100, index=True)


class Deal(DealBase, table=True):
    """A possible sale moving through a pipeline's stages."""

    __table_args__ = (
        Index("ix_deal_pipeline_status_stage", "pipeline_id", "status", "stage_id"),
        # The deals list's default order (latest change first) read from the index, for
        # one team's sellers (owner, status) or for everyone (status).
        Index("ix_deal_owner_status_updated", "owner_id", "status", "updated_at"),
        Index("ix_deal_status_updated", "status", "updated_at"),
        # A seller's rotting deals, stalest first, on Home.
        Index("ix_deal_owner_status_activity", "owner_id", "status", "last_activity_at"),
        Index("ix_deal_status_close", "status", "expected_close"),
        Index("ix_deal_status_closed_at", "status", "closed_at"),
        Index("ix_deal_stage_activity", "stage_id", "last_activity_at"),
        # A Board column's first cards: one stage's open deals by expected close.
        Index("ix_deal_stage_status_close", "stage_id", "status", "expected_close", "id"),
        # The Board's counts and totals per stage, read from the index alone.
        Index(
            "ix_deal_board_totals",
            "pipeline_id",
            "status",
            "stage_id",
            "currency",
            "amount",
            "owner_id",
        ),
        Index("ix_deal_status_activity", "status", "last_activity_at"),
        # The Deals list sorts by these; the index lets a page stop after 50 rows.
        Index("ix_deal_updated_at", "updated_at"),
        Index("ix_deal_created_at", "created_at"),
        Index("ix_deal_amount", "amount"),
        # The forecast's conversion: one pipeline's deals created in a period, from the index.
        Index(
            "ix_deal_pipeline_created",
            "pipeline_id",
            "created_at",
            "currency",
            "status",
            "owner_id",
        ),
        # Ids are never reused (an import's items and stored reports name rows by id).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    pipeline_id: int = Field(foreign_key="pipeline.id")
    stage_id: int = Field(foreign_key="stage.id")
    owner_id: int = Field(foreign_key="app_user.id")
    status: DealStatus = Field(default=DealStatus.open, max_length=8)
    lost_reason_id: int | None = Field(default=None, foreign_key="lost_reason.id")
    lost_note: str | None = Field(default=None, max_length=2000)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stage_entered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_activity_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    version: int = Field(default=1)


class DealCreate(DealBase):
    pipeline_id: int
    stage_id: int | None = None
    owner_id: int | None = None


class DealUpdate(SQLModel):
    title: str | None = None
    organisation_id: int | None = None
    contact_id: int | None = None
    amount: Decimal | None = None
    currency: str | None = None
    probability_override: int | None = None
    expected_close: date | None = None
    source: str | None = None
    notes: str | None = None


class StageChange(SQLModel, table=True):
    """One entry of a deal's history: created, moved, won, lost or reopened. Never edited."""

    __tablename__ = "stage_change"
    __table_args__ = (
        Index("ix_stage_change_deal_time", "deal_id", "changed_at"),
        Index("ix_stage_change_from_stage", "from_stage_id", "changed_at"),
        # Conversion and time in stage read a deal's visits from this index alone.
        Index(
            "ix_stage_change_deal_visit",
            "deal_id",
            "changed_at",
            "from_stage_id",
            "to_stage_id",
            "seconds_in_from",
        ),
        # Ids are never reused (an import's items and stored reports name rows by id).
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id")
    event: str = Field(max_length=10)
    from_stage_id: int | None = Field(default=None, foreign_key="stage.id")
    to_stage_id: int = Field(foreign_key="stage.id", index=True)
    # Seconds the deal spent in from_stage on the visit that this change ends, so time
    # in stage is a plain SUM in SQL and survives backward moves (one row per visit).
    seconds_in_from: int | None = None
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    changed_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class ForecastMonth(SQLModel, table=True):
    """The forecast's sums and counts for one pipeline, owner, currency and month.

    Open deals count in their expected close month ("" when they have none) and stage;
    won and lost deals in the UTC month they closed (lost ones under their reason). Money
    is in whole cents, so sums are exact on every database. Kept by
    `db.pipeline.summary.apply_deal_delta` in the transaction of every change to a deal.
    """

    __tablename__ = "forecast_month"

    pipeline_id: int = Field(primary_key=True)
    owner_id: int = Field(primary_key=True)
    currency: str = Field(primary_key=True, max_length=3)
    status: str = Field(primary_key=True, max_length=8)
    month: str = Field(primary_key=True, max_length=7)
    # The open deals' stage (0 for closed deals): its probability weighs them when read.
    stage_id: int = Field(primary_key=True)
    lost_reason_id: int = Field(primary_key=True)
    deals: int = Field(default=0)
    amount_cents: int = Field(default=0, sa_type=BigInteger)
    # Open deals without a probability of their own: weighed by their stage's probability.
    default_cents: int = Field(default=0, sa_type=BigInteger)
    # Σ amount in cents × the deal's own probability (a whole percentage).
    override_weight: int = Field(default=0, sa_type=BigInteger)
    # Won deals: Σ whole seconds from creation to close.
    cycle_seconds: int = Field(default=0, sa_type=BigInteger)


class SalesTarget(SQLModel, table=True):
    """What a team aims to win in one quarter, in one currency (set by managers or admin)."""

    __tablename__ = "sales_target"
    __table_args__ = (UniqueConstraint("team", "year", "quarter", "currency"),)

    id: int | None = Field(default=None, primary_key=True)
    team: str = Field(max_length=80, index=True)
    year: int
    quarter: int
    currency: str = Field(default="GBP", max_length=3)
    amount: Decimal = Field(sa_type=Numeric(14, 2))
    set_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
