"""Row handler for importing the employee directory that surveys are sent to.

People are matched by email; a file never removes anyone, and a leaver stays a leaver
(with their leaving date) unless the file gives a new one.
"""

from datetime import date
from typing import Any

from sqlmodel import select

from db.imports.kinds import Kind, RowContext, RowError, Touched
from db.imports.rows import parse_date
from db.models.auth import Role
from db.models.surveys import Employee
from db.surveys.employees import EMAIL_PATTERN

EMPLOYEE_ROLES = frozenset({Role.hr, Role.admin})
EMPLOYEE_FIELDS = frozenset(
    {
        "name",
        "email",
        "department",
        "team",
        "location",
        "manager_email",
        "start_date",
        "employment_type",
        "left_on",
    }
)
_LIMITS = {"name": 120, "department": 80, "team": 80, "location": 80, "employment_type": 40}
_REQUIRED_NEW = ("name", "department", "team", "location", "start_date")
EMPLOYMENT_TYPES = {
    "full time": "full-time",
    "fulltime": "full-time",
    "ft": "full-time",
    "part time": "part-time",
    "parttime": "part-time",
    "pt": "part-time",
}


def _email(column: str, value: str | None) -> str | None:
    text = (value or "").strip().lower()
    if not text:
        return None
    if not EMAIL_PATTERN.match(text) or len(text) > 254:
        raise ValueError(f"{value!r} is not an email address")
    return text


def _date(ctx: RowContext, column: str, value: str | None, *, required: bool) -> date | None:
    if not value or not value.strip():
        return None
    try:
        parsed = parse_date(value)
    except ValueError as err:
        if required:
            raise RowError(column, str(err)) from err
        ctx.warn(column, f"{err}; the value was left out")
        return None
    if parsed > date.today():
        if required:
            raise RowError(column, f"{parsed} is in the future")
        ctx.warn(column, f"{parsed} is in the future; the value was left out")
        return None
    return parsed


def employee_values(ctx: RowContext, raw: dict[str, str]) -> dict[str, Any]:
    """Validated fields of one row; a bad email or start date rejects it."""
    try:
        email = _email("email", raw.get("email"))
    except ValueError as err:
        raise RowError("email", str(err)) from err
    if not email:
        raise RowError("email", "every employee needs an email (it identifies them)")
    values: dict[str, Any] = {"email": email}
    for column, limit in _LIMITS.items():
        if column not in raw:
            continue
        text = " ".join((raw[column] or "").split())
        if len(text) > limit:
            raise RowError(column, f"is longer than {limit} characters")
        values[column] = text or None
    if values.get("employment_type"):
        kind = values["employment_type"].lower()
        values["employment_type"] = EMPLOYMENT_TYPES.get(kind.replace("-", " "), kind)
    if "manager_email" in raw:
        try:
            values["manager_email"] = _email("manager_email", raw["manager_email"])
        except ValueError as err:
            ctx.warn("manager_email", f"{err}; the value was left out")
        else:
            manager = values["manager_email"]
            if manager == email:
                ctx.warn("manager_email", "a person cannot manage themselves; left out")
                values["manager_email"] = None
            elif manager and not _known(ctx, manager):
                # Kept: the manager may come later in the file or join the directory later.
                ctx.warn("manager_email", f"{manager} is not in the directory (yet); kept")
    if "start_date" in raw:
        values["start_date"] = _date(ctx, "start_date", raw["start_date"], required=True)
    if "left_on" in raw:
        values["left_on"] = _date(ctx, "left_on", raw["left_on"], required=False)
    start, left = values.get("start_date"), values.get("left_on")
    if start and left and left < start:
        ctx.warn("left_on", f"{left} is before the start date; the value was left out")
        values["left_on"] = None
    return values


def _known(ctx: RowContext, email: str) -> bool:
    return ctx.session.exec(select(Employee.id).where(Employee.email == email)).first() is not None


def handle_employee(ctx: RowContext, raw: dict[str, str]) -> list[Touched]:
    """Add one person to the directory, or update the one with the same email."""
    values = employee_values(ctx, raw)
    existing = ctx.session.exec(select(Employee).where(Employee.email == values["email"])).first()
    if existing is not None:
        if ctx.update_by == "none":
            raise RowError("email", f"{values['email']} is already in the directory")
        changes = {k: v for k, v in values.items() if v is not None and getattr(existing, k) != v}
        if existing.left_on and changes.get("left_on") is None:
            changes.pop("left_on", None)  # a leaver stays a leaver
        if not changes:
            return []
        before = {k: getattr(existing, k) for k in changes}
        existing.sqlmodel_update(changes)
        existing.version += 1
        ctx.session.add(existing)
        ctx.session.flush()
        return [Touched("employee", existing.id or 0, "updated", before, existing.version)]
    for column in _REQUIRED_NEW:
        if not values.get(column):
            raise RowError(column, "is required for someone new to the directory")
    values["employment_type"] = values.get("employment_type") or "full-time"
    employee = Employee.model_validate({k: v for k, v in values.items() if v is not None})
    ctx.session.add(employee)
    ctx.session.flush()
    return [Touched("employee", employee.id or 0, "created")]


EMPLOYEES_KIND = Kind("employees", EMPLOYEE_FIELDS, EMPLOYEE_ROLES, handle_employee, "surveys")
