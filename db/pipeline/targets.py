"""Sales targets per team and quarter, and a team's forecast against its target."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from db.auth.actor import Actor, Operator, require_role
from db.auth.audit import record
from db.core.errors import Forbidden, ValidationError
from db.core.types import utcnow
from db.models.auth import Role, User
from db.models.pipeline import CURRENCIES, Deal, DealStatus, SalesTarget, Stage

MAX_TARGET = Decimal("1000000000000")


def quarter_of(day: date) -> tuple[int, int]:
    """(year, quarter) of a day."""
    return day.year, (day.month - 1) // 3 + 1


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First day of the quarter and first day of the next one."""
    start = date(year, 3 * (quarter - 1) + 1, 1)
    end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return start, end


def _may_set(actor: Actor, team: str) -> None:
    require_role(actor, Role.admin, Role.manager, doing="set sales targets")
    if isinstance(actor, Operator) or Role.admin in actor.roles:
        return
    if actor.team != team:
        raise Forbidden("Managers set the target of their own team only.")


def set_target(
    *,
    session: Session,
    team: str,
    year: int,
    quarter: int,
    amount: Decimal,
    actor: Actor,
    currency: str = "GBP",
) -> SalesTarget:
    """Set (or replace) a team's target for one quarter (admin, or the team's manager)."""
    _may_set(actor, team)
    team = team.strip()
    if not team:
        raise ValidationError("Team: choose the team the target is for.", field="team")
    if quarter not in (1, 2, 3, 4):
        raise ValidationError("Quarter: choose 1, 2, 3 or 4.", field="quarter")
    if not 2000 <= year <= 2100:
        raise ValidationError("Year: give a year between 2000 and 2100.", field="year")
    if currency not in CURRENCIES:
        raise ValidationError(f"Currency: use one of {', '.join(CURRENCIES)}.", field="currency")
    if amount < 0 or amount > MAX_TARGET:
        raise ValidationError("Target: give an amount of zero or more.", field="amount")
    target = session.exec(
        select(SalesTarget).where(
            SalesTarget.team == team,
            SalesTarget.year == year,
            SalesTarget.quarter == quarter,
            SalesTarget.currency == currency,
        )
    ).first()
    if target is None:
        target = SalesTarget(
            team=team, year=year, quarter=quarter, currency=currency, amount=amount
        )
    target.amount = amount.quantize(Decimal("0.01"))
    target.set_by_id = actor.id
    target.set_at = utcnow()
    session.add(target)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="target.set",
        entity="sales_target",
        entity_id=target.id,
        details={"team": team, "year": year, "quarter": quarter, "amount": str(target.amount)},
    )
    session.commit()
    session.refresh(target)
    return target


def list_targets(*, session: Session, actor: Actor, year: int | None = None) -> list[SalesTarget]:
    """Targets the actor may see: admin every team's, a manager their own team's."""
    require_role(actor, Role.admin, Role.manager, doing="see sales targets")
    query = select(SalesTarget)
    if not (isinstance(actor, Operator) or Role.admin in actor.roles):
        query = query.where(SalesTarget.team == (actor.team or ""))
    if year is not None:
        query = query.where(SalesTarget.year == year)
    return list(
        session.exec(
            query.order_by(
                col(SalesTarget.year).desc(), col(SalesTarget.quarter).desc(), col(SalesTarget.team)
            )
        ).all()
    )


def target_teams(*, session: Session, actor: Actor) -> list[str]:
    """Teams the actor may set targets for."""
    require_role(actor, Role.admin, Role.manager, doing="set sales targets")
    if isinstance(actor, Operator) or Role.admin in actor.roles:
        rows = session.exec(
            select(User.team).where(col(User.team).is_not(None)).distinct().order_by(User.team)
        ).all()
        return [t for t in rows if t]
    return [actor.team] if actor.team else []


@dataclass(frozen=True)
class TeamForecast:
    """A team's quarter: target, won so far, and weighted open pipeline due to close in it."""

    team: str
    year: int
    quarter: int
    currency: str
    target: Decimal | None
    won: Decimal
    weighted_open: Decimal

    @property
    def forecast(self) -> Decimal:
        """Won so far plus the weighted open pipeline expected to close this quarter."""
        return self.won + self.weighted_open

    @property
    def attainment(self) -> float | None:
        """Forecast as a percentage of target (None without a target)."""
        if not self.target:
            return None
        return round(float(100 * self.forecast / self.target), 1)


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def team_forecast(
    *,
    session: Session,
    team: str,
    actor: Actor,
    today: date | None = None,
    currency: str = "GBP",
) -> TeamForecast:
    """The team's forecast against its target for the current quarter."""
    require_role(actor, Role.admin, Role.manager, doing="see the team's forecast")
    if not (isinstance(actor, Operator) or Role.admin in actor.roles) and actor.team != team:
        raise Forbidden("Managers see the forecast of their own team only.")
    year, quarter = quarter_of(today or utcnow().date())
    start, end = quarter_bounds(year, quarter)
    members = sa_select(col(User.id)).where(col(User.team) == team)
    in_team = [col(Deal.owner_id).in_(members), col(Deal.currency) == currency]
    won = session.execute(
        sa_select(func.sum(col(Deal.amount))).where(
            *in_team,
            col(Deal.status) == DealStatus.won,
            col(Deal.closed_at) >= datetime(start.year, start.month, 1, tzinfo=UTC),
            col(Deal.closed_at) < datetime(end.year, end.month, 1, tzinfo=UTC),
        )
    ).scalar_one()
    probability = func.coalesce(col(Deal.probability_override), col(Stage.probability))
    weighted = session.execute(
        sa_select(func.sum(col(Deal.amount) * probability / 100.0))
        .join(Stage, col(Stage.id) == col(Deal.stage_id))
        .where(
            *in_team,
            col(Deal.status) == DealStatus.open,
            col(Deal.expected_close) >= start,
            col(Deal.expected_close) < end,
        )
    ).scalar_one()
    target = session.exec(
        select(SalesTarget).where(
            SalesTarget.team == team,
            SalesTarget.year == year,
            SalesTarget.quarter == quarter,
            SalesTarget.currency == currency,
        )
    ).first()
    return TeamForecast(
        team=team,
        year=year,
        quarter=quarter,
        currency=currency,
        target=target.amount if target else None,
        won=_money(won),
        weighted_open=_money(weighted),
    )
