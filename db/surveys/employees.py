"""The employee directory (separate from user accounts): add, import, list, leavers."""

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from db.auth.actor import Actor, require_role
from db.auth.audit import record
from db.core.errors import Conflict, NotFound, ValidationError
from db.core.normalise import EMAIL_MAX, search_text
from db.core.validation import parse_model
from db.models.auth import Role
from db.models.surveys import Employee, EmployeeCreate, EmployeeUpdate

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CSV_COLUMNS = (
    "name",
    "email",
    "department",
    "team",
    "location",
    "manager_email",
    "start_date",
    "employment_type",
)
REQUIRED_COLUMNS = ("name", "email", "department", "team", "location", "start_date")
PAGE_SIZE_MAX = 500
EMPLOYEE_NAME_MAX = 120
# Department, team and location.
ORG_UNIT_MAX = 80


def _clean(employee_in: EmployeeCreate) -> EmployeeCreate:
    values = employee_in.model_dump()
    for key, value in values.items():
        if isinstance(value, str):
            values[key] = value.strip()
    values["email"] = values["email"].lower()
    if values.get("manager_email"):
        values["manager_email"] = values["manager_email"].lower()
    else:
        values["manager_email"] = None
    cleaned = EmployeeCreate(**values)
    for name in ("name", "department", "team", "location"):
        if not getattr(cleaned, name):
            raise ValidationError(f"{name.capitalize()}: enter a value.", field=name)
        limit = EMPLOYEE_NAME_MAX if name == "name" else ORG_UNIT_MAX
        if len(getattr(cleaned, name)) > limit:
            raise ValidationError(
                f"{name.capitalize()}: use at most {limit} characters.", field=name
            )
    if not EMAIL_PATTERN.match(cleaned.email) or len(cleaned.email) > EMAIL_MAX:
        raise ValidationError("Email: enter an address like name@example.org.", field="email")
    if cleaned.manager_email and (
        not EMAIL_PATTERN.match(cleaned.manager_email) or len(cleaned.manager_email) > EMAIL_MAX
    ):
        raise ValidationError(
            "Manager email: enter an address like name@example.org, or leave it empty.",
            field="manager_email",
        )
    if cleaned.start_date > date.today():
        raise ValidationError("Start date: it cannot be in the future.", field="start_date")
    return cleaned


def create_employee(*, session: Session, employee_in: EmployeeCreate, actor: Actor) -> Employee:
    """Add a person to the directory (HR)."""
    require_role(actor, Role.hr, doing="edit the employee directory")
    cleaned = _clean(employee_in)
    taken = session.exec(select(Employee.id).where(Employee.email == cleaned.email)).first()
    if taken is not None:
        raise Conflict(f"Email: {cleaned.email} is already in the directory.")
    employee = Employee.model_validate(cleaned)
    session.add(employee)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="employee.create",
        entity="employee",
        entity_id=employee.id,
    )
    session.commit()
    return employee


def update_employee(
    *, session: Session, employee_id: int, patch: EmployeeUpdate, version: int, actor: Actor
) -> Employee:
    """Change a person's details, refusing a stale edit (HR)."""
    require_role(actor, Role.hr, doing="edit the employee directory")
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("That employee is not in the directory.")
    if employee.version != version:
        raise Conflict("This employee was changed by someone else meanwhile — reload.")
    merged = parse_model(
        EmployeeCreate, {**employee.model_dump(), **patch.model_dump(exclude_unset=True)}
    )
    cleaned = _clean(merged)
    employee.sqlmodel_update(cleaned.model_dump())
    if "left_on" in patch.model_fields_set:
        employee.left_on = patch.left_on
    employee.version += 1
    session.add(employee)
    record(
        session=session,
        actor=actor,
        action="employee.update",
        entity="employee",
        entity_id=employee_id,
        details={"fields": sorted(patch.model_fields_set)},
    )
    session.commit()
    return employee


def mark_leaver(*, session: Session, employee_id: int, left_on: date, actor: Actor) -> Employee:
    """Record that a person left; they stay in the directory for history (HR)."""
    require_role(actor, Role.hr, doing="edit the employee directory")
    employee = session.get(Employee, employee_id)
    if employee is None:
        raise NotFound("That employee is not in the directory.")
    if left_on < employee.start_date:
        raise ValidationError("Leaving date: it must be after the start date.", field="left_on")
    employee.left_on = left_on
    employee.version += 1
    session.add(employee)
    record(
        session=session,
        actor=actor,
        action="employee.leave",
        entity="employee",
        entity_id=employee_id,
    )
    session.commit()
    return employee


@dataclass
class ImportReport:
    """What a CSV import did: rows added and, per refused row, why."""

    created: int = 0
    bad_rows: list[dict[str, Any]] = field(default_factory=list)


CSV_MAX_CHARS = 5_000_000


def import_employees_csv(*, session: Session, text: str, actor: Actor) -> ImportReport:
    """Add every good row of a CSV; report each bad row by line number and reason (HR)."""
    require_role(actor, Role.hr, doing="import employees")
    if len(text) > CSV_MAX_CHARS:
        raise ValidationError(
            f"CSV file: the file is over the {CSV_MAX_CHARS // 1_000_000} MB limit; split it.",
            field="file",
        )
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    # Read the whole file before adding anything, so a malformed file (a field over the
    # csv module's size limit, say) is refused as a whole and nothing is written.
    try:
        headers = [h.strip().lower() for h in (reader.fieldnames or [])]
        raws = list(reader)
    except csv.Error as err:
        raise ValidationError(
            f"CSV file: the file is malformed near line {reader.line_num} ({err}); "
            "nothing was imported.",
            field="file",
        ) from err
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    if missing:
        raise ValidationError(
            f"CSV file: add the column(s) {', '.join(missing)} to the first row "
            f"(expected: {', '.join(CSV_COLUMNS)}).",
            field="file",
        )
    report = ImportReport()
    existing = set(session.exec(select(Employee.email)).all())
    for line, raw in enumerate(raws, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        try:
            try:
                start = date.fromisoformat(row.get("start_date", ""))
            except ValueError as exc:
                raise ValidationError("Start date: write it as YYYY-MM-DD.") from exc
            cleaned = _clean(
                parse_model(
                    EmployeeCreate,
                    {
                        "name": row.get("name", ""),
                        "email": row.get("email", ""),
                        "department": row.get("department", ""),
                        "team": row.get("team", ""),
                        "location": row.get("location", ""),
                        "manager_email": row.get("manager_email") or None,
                        "start_date": start,
                        "employment_type": row.get("employment_type") or "full-time",
                    },
                )
            )
            if cleaned.email in existing:
                raise ValidationError(f"Email: {cleaned.email} is already in the directory.")
        except ValidationError as err:
            report.bad_rows.append(
                {"line": line, "email": row.get("email", ""), "reason": str(err)}
            )
            continue
        existing.add(cleaned.email)
        session.add(Employee.model_validate(cleaned))
        report.created += 1
    record(
        session=session,
        actor=actor,
        action="employee.import",
        entity="employee",
        details={"created": report.created, "refused": len(report.bad_rows)},
    )
    session.commit()
    return report


@dataclass(frozen=True)
class EmployeeFilter:
    """What the directory page filters by; empty means no filter."""

    search: str | None = None
    department: str | None = None
    team: str | None = None
    include_leavers: bool = False


def _conditions(flt: EmployeeFilter) -> list[Any]:
    conditions: list[Any] = []
    search = search_text(flt.search)
    if search:
        like = f"%{search.lower()}%"
        conditions.append(
            or_(func.lower(Employee.name).like(like), func.lower(Employee.email).like(like))
        )
    if flt.department:
        conditions.append(col(Employee.department) == flt.department)
    if flt.team:
        conditions.append(col(Employee.team) == flt.team)
    if not flt.include_leavers:
        conditions.append(col(Employee.left_on).is_(None))
    return conditions


def count_employees(*, session: Session, actor: Actor, flt: EmployeeFilter) -> int:
    """How many people match the filter (HR)."""
    require_role(actor, Role.hr, doing="read the employee directory")
    query = select(func.count()).select_from(Employee).where(*_conditions(flt))
    return int(session.exec(query).one())


def list_employees(
    *, session: Session, actor: Actor, flt: EmployeeFilter, offset: int = 0, limit: int = 50
) -> list[Employee]:
    """One page of the directory, by name (HR)."""
    require_role(actor, Role.hr, doing="read the employee directory")
    if not 1 <= limit <= PAGE_SIZE_MAX:
        raise ValidationError(f"Page size must be between 1 and {PAGE_SIZE_MAX}.", field="limit")
    query = (
        select(Employee)
        .where(*_conditions(flt))
        .order_by(col(Employee.name), col(Employee.id))
        .offset(max(offset, 0))
        .limit(limit)
    )
    return list(session.exec(query).all())


def org_choices(*, session: Session, actor: Actor) -> dict[str, list[str]]:
    """Distinct departments, teams and locations of current employees (HR)."""
    require_role(actor, Role.hr, doing="read the employee directory")

    def distinct(column: Any) -> list[str]:
        query = select(column).where(col(Employee.left_on).is_(None)).distinct().order_by(column)
        return [v for v in session.exec(query).all() if v]

    return {
        "department": distinct(Employee.department),
        "team": distinct(Employee.team),
        "location": distinct(Employee.location),
    }


# The tenure bands, defined once: shortest first (the order cut views list them in).
TENURE_BANDS = ("under 1 year", "1-2 years", "2-5 years", "5+ years")


def tenure_band(start: date, on: date) -> str:
    """The tenure band reported beside an answer (coarse on purpose)."""
    years = (on - start).days / 365.25
    for band, below in zip(TENURE_BANDS, (1, 2, 5), strict=False):
        if years < below:
            return band
    return TENURE_BANDS[-1]
