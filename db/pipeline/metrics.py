"""Pipeline metric formulas as pure functions, so each is tested against hand-worked cases."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def effective_probability(stage_probability: int, override: int | None) -> int:
    """The deal's own probability when set, else its stage's default."""
    return stage_probability if override is None else override


def weighted_amount(amount: Decimal, probability: int) -> Decimal:
    """Amount × probability (a whole percentage), to the cent."""
    return (amount * Decimal(probability) / Decimal(100)).quantize(CENT, ROUND_HALF_UP)


def win_rate(won: Decimal | int, lost: Decimal | int) -> Decimal | None:
    """won / (won + lost), by count or by value; None when nothing closed."""
    closed = Decimal(won) + Decimal(lost)
    if closed == 0:
        return None
    return (Decimal(won) / closed).quantize(Decimal("0.0001"), ROUND_HALF_UP)


def average(total: Decimal | float, count: int) -> Decimal | None:
    """total / count, or None for an empty set."""
    if count == 0:
        return None
    return (Decimal(str(total)) / Decimal(count)).quantize(CENT, ROUND_HALF_UP)


def sales_velocity(
    open_deals: int,
    average_won: Decimal | None,
    rate: Decimal | None,
    cycle_days: Decimal | None,
) -> Decimal | None:
    """Open deals × average won size × win rate ÷ average cycle days (money per day)."""
    if average_won is None or rate is None or not cycle_days:
        return None
    return (Decimal(open_deals) * average_won * rate / cycle_days).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class FunnelStep:
    """How many deals reached a stage, and what share of them went on to the next."""

    stage: str
    reached: int
    conversion: Decimal | None


def funnel(
    stages: Sequence[tuple[int, str]], furthest: Mapping[int, int], won: int
) -> list[FunnelStep]:
    """Stage-to-stage conversion from each deal's furthest stage position.

    A deal counts as having reached every stage up to the furthest it ever got to, so
    a skipped stage counts as passed and a backward move does not un-reach a stage.
    `stages` are (position, name); `furthest` maps a position to the number of open or
    lost deals whose furthest stage it was; `won` deals passed every stage and are the
    last step.
    """
    ordered = sorted(stages)
    reached = []
    for position, name in ordered:
        count = won + sum(n for p, n in furthest.items() if p >= position)
        reached.append((name, count))
    return funnel_steps(reached, won)


def funnel_steps(reached: Sequence[tuple[str, int]], won: int) -> list[FunnelStep]:
    """The funnel from how many deals reached each stage, in order, then Won.

    A stage added to a running pipeline can have been reached by fewer deals than the
    stage after it; its conversion is then unknown rather than above 100%.
    """
    counts = [*reached, ("Won", won)]
    steps = []
    for index, (name, count) in enumerate(counts):
        following = counts[index + 1][1] if index + 1 < len(counts) else None
        conversion = (
            None
            if following is None or count == 0 or following > count
            else win_rate(following, count - following)
        )
        steps.append(FunnelStep(stage=name, reached=count, conversion=conversion))
    return steps


def days_in_stage(total_seconds: int, deals: int) -> Decimal | None:
    """Average cumulative days a deal spent in a stage (all its visits summed)."""
    if deals == 0:
        return None
    return (Decimal(total_seconds) / Decimal(86400) / Decimal(deals)).quantize(
        Decimal("0.1"), ROUND_HALF_UP
    )


def months_between(start: date, end: date) -> list[str]:
    """Every month "YYYY-MM" from start's month to end's month, inclusive."""
    months = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def fill_months(months: Iterable[str], values: Mapping[str, Decimal]) -> list[tuple[str, Decimal]]:
    """One value per month, zero where a month had nothing."""
    return [(m, values.get(m, Decimal("0.00"))) for m in months]
