"""More ways to cut a closed survey's results: tenure band, location, manager hierarchy.

Each cut can be read alone or two together (location × tenure band, say). Every group
any of these views could show, with the department view beside them, goes through one
call of the small-group rule (`hide_across_views`), so a figure is shown only when no
set of fewer than the threshold can be worked out from it and every other figure on
any view: one-cut minus two-cut, either minus a department, company total and all.
Counts, favourability, item scores and comment counts are sums over the same people,
so what hides a group's count hides all its figures.

Over time: cuts are shown only once the survey has closed, and only while no answer
has been added since the close (an added answer would make two views of one cell
differ by fewer than the threshold). Waves are separate surveys with separate people,
and each goes through the rule on its own.
"""

import hashlib
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from db.auth.actor import Actor
from db.core.errors import Forbidden, ValidationError
from db.core.report_cache import cached
from db.core.small_groups import SMALL, hide_across_views
from db.models.auth import Role
from db.models.surveys import (
    AudienceKind,
    Employee,
    QuestionKind,
    SurveyAnswer,
    SurveyResponse,
    SurveyStatus,
)
from db.surveys.employees import TENURE_BANDS
from db.surveys.privacy import Group, build_tree
from db.surveys.reports import percent, report_scope, survey_questions
from db.surveys.tallies import ENGAGEMENT_FACTOR, live_counts

CUTS = {
    "tenure_band": "Tenure band",
    "location": "Location",
    "manager": "Manager",
    "department": "Department",
}
# Two cuts together: every pair of these may be asked for.
PAIRS = (
    ("tenure_band", "location"),
    ("department", "tenure_band"),
    ("department", "location"),
    ("manager", "tenure_band"),
    ("manager", "location"),
)
WAITING = (
    "cuts by tenure band, location and manager are shown once the survey closes, "
    "so that no two views of them differ by a few people"
)
ADDED_SINCE_CLOSE = (
    "answers were added after the survey closed: a cut now would differ from the one "
    "at the close by fewer than {k} people, so cuts are withheld for this survey"
)
NO_TREE = "you manage nobody in the employee directory, so there is no reporting tree to cut"

# A finest cell: department, team, tenure band, location, line manager.
Cell = tuple[str, str, str, str, str]
_AT = {"department": 0, "tenure_band": 2, "location": 3, "manager": 4}


@dataclass(frozen=True)
class CutGroup:
    """One group a cut view can show: its key, what it is, and its people's cells."""

    key: str
    cut: str
    label: str
    cells: frozenset[Cell]
    manager: str = ""  # the manager whose tree it lies in, for the manager cut
    parts: tuple[str, ...] = ()  # the label of each cut it crosses

    def __post_init__(self) -> None:
        if not self.parts:
            object.__setattr__(self, "parts", (self.label,))


@dataclass
class Sums:
    """What every figure of a group is summed from."""

    responses: int = 0
    comments: int = 0
    # Per question id: answers and favourable answers (4–5).
    items: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))


def _cell_sums(session: Session, survey_id: int, comment_questions: set[int]) -> dict[Cell, Sums]:
    """Responses, comments and per-item counts per finest cell, aggregated in SQL."""
    cut = (
        col(SurveyResponse.department),
        col(SurveyResponse.team),
        col(SurveyResponse.tenure_band),
        col(SurveyResponse.location),
        col(SurveyResponse.manager),
    )
    sums: dict[Cell, Sums] = defaultdict(Sums)
    for *key, n in session.execute(
        sa_select(*cut, func.count())
        .where(col(SurveyResponse.survey_id) == survey_id)
        .group_by(*cut)
    ).all():
        sums[tuple(key)].responses = int(n)
    value = col(SurveyAnswer.value)
    answered = (
        sa_select(
            *cut,
            col(SurveyAnswer.question_id),
            func.count(value),
            func.sum(case((value >= 4, 1), else_=0)),
            func.count(col(SurveyAnswer.text)),
        )
        .join(SurveyResponse, col(SurveyResponse.id) == col(SurveyAnswer.response_id))
        .where(col(SurveyResponse.survey_id) == survey_id)
        .group_by(*cut, col(SurveyAnswer.question_id))
    )
    for *key, qid, n, favourable, texts in session.execute(answered).all():
        cell = sums[tuple(key)]
        cell.items[int(qid)] = [int(n), int(favourable or 0)]
        if int(qid) in comment_questions:
            cell.comments += int(texts)
    return sums


def _reporting_lines(session: Session) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Names by email, and each manager's direct reports who manage others or not."""
    rows = session.execute(
        sa_select(col(Employee.email), col(Employee.name), col(Employee.manager_email))
    ).all()
    names = {email: name for email, name, _m in rows}
    reports: dict[str, list[str]] = defaultdict(list)
    for email, _name, manager in rows:
        if manager and manager != email:
            reports[manager].append(email)
    return names, reports


def _tree_of(manager: str, reports: dict[str, list[str]]) -> set[str]:
    """The manager and everyone under them (a loop in the directory ends the walk)."""
    seen = {manager}
    todo = [manager]
    while todo:
        for person in reports.get(todo.pop(), []):
            if person not in seen:
                seen.add(person)
                todo.append(person)
    return seen


def _cut_groups(
    cells: Iterable[Cell], names: dict[str, str], reports: dict[str, list[str]]
) -> dict[str, list[CutGroup]]:
    """The groups of each one-cut view, biggest first within a cut."""
    cells = list(cells)
    out: dict[str, list[CutGroup]] = {}
    for cut in ("department", "tenure_band", "location"):
        at = _AT[cut]
        values = sorted({c[at] for c in cells})
        if cut == "tenure_band":
            values = sorted(values, key=lambda v: (TENURE_BANDS + (v,)).index(v))
        out[cut] = [
            CutGroup(f"{cut}={v}", cut, v, frozenset(c for c in cells if c[at] == v))
            for v in values
        ]
    managers: list[CutGroup] = []
    for manager in sorted(m for m in reports if reports[m]):
        below = _tree_of(manager, reports)
        name = names.get(manager, manager)
        managers.append(
            CutGroup(
                f"tree={manager}",
                "manager",
                f"{name}: whole reporting tree",
                frozenset(c for c in cells if c[4] in below),
                manager,
            )
        )
        managers.append(
            CutGroup(
                f"direct={manager}",
                "manager",
                f"{name}: direct reports",
                frozenset(c for c in cells if c[4] == manager),
                manager,
            )
        )
    out["manager"] = [g for g in managers if g.cells]
    return out


def _pair_groups(one: dict[str, list[CutGroup]]) -> dict[tuple[str, str], list[CutGroup]]:
    """The cells of each two-cut table (row group ∩ column group), where anyone is."""
    pairs: dict[tuple[str, str], list[CutGroup]] = {}
    for first, second in PAIRS:
        pairs[(first, second)] = [
            CutGroup(
                f"{a.key} × {b.key}",
                f"{first}×{second}",
                f"{a.label} × {b.label}",
                cells,
                a.manager,
                (a.label, b.label),
            )
            for a in one[first]
            for b in one[second]
            if (cells := a.cells & b.cells)
        ]
    return pairs


def _tree_cells(groups: list[Group], cells: Iterable[Cell]) -> dict[str, frozenset[Cell]]:
    """The department view's groups as sets of finest cells."""
    cells = list(cells)
    return {
        g.key: frozenset(
            c
            for c in cells
            if (g.department is None or c[0] == g.department) and (g.team is None or c[1] == g.team)
        )
        for g in groups
    }


@dataclass(frozen=True)
class CutView:
    """A one-cut or two-cut view: its cells with their figures, or why there are none."""

    rows: list[dict[str, object]]
    items: dict[str, list[dict[str, object]]]
    message: str = ""


def _figures(
    group: CutGroup, sums: dict[Cell, Sums], kinds: dict[int, tuple[str, str, str]]
) -> tuple[dict[str, object], list[dict[str, object]]]:
    total = Sums()
    for cell in group.cells:
        found = sums[cell]
        total.responses += found.responses
        total.comments += found.comments
        for qid, (n, fav) in found.items.items():
            total.items[qid][0] += n
            total.items[qid][1] += fav
    engaged = [0, 0]
    everything = [0, 0]
    items = []
    for qid, (kind, factor, code) in kinds.items():
        n, fav = total.items.get(qid, [0, 0])
        if kind != QuestionKind.agree5.value:
            continue
        everything = [everything[0] + n, everything[1] + fav]
        if factor == ENGAGEMENT_FACTOR:
            engaged = [engaged[0] + n, engaged[1] + fav]
        items.append({"code": code, "factor": factor, "n": n, "favourable": percent(fav, n)})
    return (
        {
            "responses": total.responses,
            "engagement index": percent(engaged[1], engaged[0]),
            "% favourable": percent(everything[1], everything[0]),
            "comments": total.comments,
        },
        items,
    )


def cut_view(
    *,
    session: Session,
    survey_id: int,
    first: str,
    second: str | None = None,
    actor: Actor,
) -> CutView:
    """One cut, or two together, of a closed survey: every figure through the one rule.

    HR sees every cut; a manager sees only the manager cut, within their own reporting
    tree (alone, or crossed with tenure band or location).
    """
    scope = report_scope(session, survey_id, actor)  # checks the role
    survey = scope.survey
    wanted = tuple(c for c in (first, second) if c)
    if any(c not in CUTS for c in wanted) or len(set(wanted)) != len(wanted):
        raise ValidationError("Cut: choose one or two different cuts from the list.", field="cut")
    if second and (first, second) not in PAIRS and (second, first) not in PAIRS:
        raise ValidationError(
            f"Cut: {CUTS[first]} and {CUTS[second]} cannot be shown together; pick another pair.",
            field="cut",
        )
    is_hr = actor.has_any({Role.hr})
    if not is_hr and "manager" not in wanted:
        raise Forbidden("Managers can cut results only within their own reporting tree.")
    if survey.audience_kind == AudienceKind.contacts.value:
        raise ValidationError("Cut: customer surveys are cut by kind and organisation only.")
    if survey.status != SurveyStatus.closed.value:
        return CutView([], {}, WAITING)
    assert survey.id is not None
    if scope.at_close and live_counts(session, survey.id) != scope.at_close:
        return CutView([], {}, ADDED_SINCE_CLOSE.format(k=survey.min_group))
    questions = survey_questions(session, survey.id)
    kinds = {q.id or 0: (q.kind, q.factor or "other", q.code) for q in questions}
    texts = {q.id or 0 for q in questions if q.kind == QuestionKind.text.value}
    sums = _cell_sums(session, survey.id, texts)
    names, reports = _reporting_lines(session)
    one = _cut_groups(sums, names, reports)
    pairs = _pair_groups(one)
    mine: set[str] | None = None
    if not is_hr:
        me = (getattr(actor, "email", "") or "").lower()
        if not reports.get(me):
            return CutView([], {}, NO_TREE)
        mine = _tree_of(me, reports)
    hidden = _hidden(session, survey.id, survey.min_group, scope.groups, sums, one, pairs)
    comment_hidden = _hidden(
        session,
        survey.id,
        survey.comment_min,
        build_tree({leaf: g.n for leaf, g in _leaves(scope.groups).items()}, survey.comment_min),
        sums,
        one,
        pairs,
    )
    if second is None:
        columns: tuple[str, ...] = (first,)
        chosen = one[first]
    else:
        pair = (first, second) if (first, second) in PAIRS else (second, first)
        columns = pair
        chosen = pairs[pair]
    rows: list[dict[str, object]] = []
    items: dict[str, list[dict[str, object]]] = {}
    for group in chosen:
        if mine is not None and group.manager not in mine:
            continue
        reason = hidden.get(group.key, "")
        named = {CUTS[c].lower(): part for c, part in zip(columns, group.parts, strict=True)}
        # Columns in the order the viewer picked the cuts.
        row: dict[str, object] = {CUTS[c].lower(): named[CUTS[c].lower()] for c in wanted}
        if reason:
            rows.append(
                {
                    **row,
                    "responses": None,
                    "engagement index": None,
                    "% favourable": None,
                    "comments": None,
                    "note": reason,
                }
            )
            continue
        figures, group_items = _figures(group, sums, kinds)
        if group.key in comment_hidden:
            figures["comments"] = None
        rows.append({**row, **figures, "note": ""})
        items[group.label] = group_items
    return CutView(rows, items)


def _leaves(groups: list[Group]) -> dict[tuple[str, str], Group]:
    return {(g.department or "", g.team or ""): g for g in groups if g.level == 2}


def _hidden(
    session: Session,
    survey_id: int,
    k: int,
    tree: list[Group],
    sums: dict[Cell, Sums],
    one: dict[str, list[CutGroup]],
    pairs: dict[tuple[str, str], list[CutGroup]],
) -> dict[str, str]:
    """Every cut group hidden under threshold `k`, decided together with the tree."""
    counts: dict[Hashable, int] = {cell: s.responses for cell, s in sums.items()}
    tree_cells = _tree_cells(tree, sums)
    groups: dict[str, frozenset[Hashable]] = {
        f"tree:{g.key}": tree_cells[g.key] for g in tree if g.shown
    }
    for cut in ("tenure_band", "location", "manager"):
        for group in sorted(one[cut], key=lambda g: -len(g.cells)):
            groups[group.key] = group.cells
    for pair in PAIRS:
        for group in pairs[pair]:
            groups[group.key] = group.cells
    # The rule is heavy on big surveys: computed once per state of its inputs and stored.
    fingerprint = hashlib.sha256(
        repr(
            (
                k,
                sorted(map(repr, counts.items())),
                [(n, sorted(map(repr, g))) for n, g in groups.items()],
            )
        ).encode()
    ).hexdigest()
    hidden: dict[str, str] = cached(
        session=session,
        key=f"survey-cuts:{survey_id}:{k}",
        version=fingerprint,
        compute=lambda: hide_across_views(
            counts, groups, k, shown_already=[n for n in groups if n.startswith("tree:")]
        ),
    )
    hidden = dict(hidden)
    # Departments alone are the department view: shown or hidden as it is.
    for group in one["department"]:
        status = next((g for g in tree if g.key == f"d:{group.label}"), None)
        if status is not None and not status.shown:
            hidden[group.key] = status.reason or SMALL.format(k=k)
    return hidden
