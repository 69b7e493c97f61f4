"""The one demo world: used by `manage.py seed`, the tests and the benchmark.

Everything is created through the `db/` commands, so the demo data obeys the same
rules (validation, audit log) as data entered in the app.
"""

import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from db.auth.accounts import PUBLISHED_DEMO_PASSWORD, check_password, count_users, create_user
from db.auth.actor import OPERATOR
from db.auth.audit import ensure_head
from db.core.types import utcnow
from db.demo.cases import seed_cases
from db.demo.consent import seed_consent
from db.demo.duplicates import seed_duplicates
from db.demo.experience import EAST_USER, seed_experience
from db.demo.people import seed_people
from db.demo.pipeline import seed_pipeline
from db.demo.surveys import seed_surveys
from db.models.auth import AppMeta, Role, User, UserCreate

DEMO_MARKER = "demo_seeded_at"


@dataclass(frozen=True)
class DemoUser:
    """A demo sign-in: printed by `make run` for the demo database only."""

    username: str
    display_name: str
    roles: tuple[Role, ...]
    team: str | None
    password: str


# Demo only: one memorable password, printed by `make run` for the demo database.
DEMO_PASSWORD = PUBLISHED_DEMO_PASSWORD

DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "Ada Admin", (Role.admin,), None, DEMO_PASSWORD),
    DemoUser("manager", "Maya Manager", (Role.manager,), "North", DEMO_PASSWORD),
    DemoUser("sales", "Sam Sales", (Role.sales,), "North", DEMO_PASSWORD),
    DemoUser("sales2", "Sian Sales", (Role.sales,), "South", DEMO_PASSWORD),
    DemoUser("reviewer", "Rui Reviewer", (Role.reviewer,), None, DEMO_PASSWORD),
    DemoUser("hr", "Hana HR", (Role.hr,), None, DEMO_PASSWORD),
    DemoUser("privacy", "Priya Privacy", (Role.privacy,), None, DEMO_PASSWORD),
)


# Every account the demo world creates with the demo password (the experience area adds one).
DEMO_USERNAMES: tuple[str, ...] = (*(u.username for u in DEMO_USERS), EAST_USER)
# Fingerprints of the demo accounts' hashes as seeded, all of the demo password.
SEEDED_HASHES = "demo_password_hashes"
# Whether a stored hash is of the demo password: a hash never changes its answer, and
# checking each one once per process keeps the page banner's cost to one small query.
_DEMO_HASHES: dict[str, bool] = {}


def _fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode("ascii", "replace")).hexdigest()


def demo_password_accounts(*, session: Session) -> list[str]:
    """Active demo accounts that still sign in with the published demo password.

    A hash still as seeded is known without bcrypt; any other (changed since, or an
    account of that name made by hand) is checked once per process.
    """
    rows = session.exec(
        select(User.username, User.password_hash).where(
            col(User.username).in_(DEMO_USERNAMES), col(User.is_active)
        )
    ).all()
    if not rows:
        return []
    meta = session.get(AppMeta, SEEDED_HASHES)
    seeded = set(meta.value.split(",")) if meta is not None else set()
    found = []
    for username, password_hash in rows:
        if _fingerprint(password_hash) in seeded:
            found.append(username)
            continue
        if password_hash not in _DEMO_HASHES:
            if len(_DEMO_HASHES) > 1000:
                _DEMO_HASHES.clear()
            _DEMO_HASHES[password_hash] = check_password(DEMO_PASSWORD, password_hash)
        if _DEMO_HASHES[password_hash]:
            found.append(username)
    return sorted(found)


def demo_user_for(role: Role) -> DemoUser:
    """The first demo user holding `role` (tests and the benchmark sign in as these)."""
    return next(u for u in DEMO_USERS if role in u.roles)


# Each feature area appends a seeder: (session, random generator, scale) -> counts.
AreaSeeder = Callable[[Session, random.Random, float], dict[str, int]]
AREA_SEEDERS: list[AreaSeeder] = [
    seed_people,
    seed_consent,
    seed_duplicates,
    seed_pipeline,
    seed_cases,
    seed_surveys,
    seed_experience,
]


def seed_users(*, session: Session) -> int:
    """Create the demo users only (the tests of sign-in and audit need no more)."""
    ensure_head(session=session)
    for demo in DEMO_USERS:
        create_user(
            session=session,
            user_in=UserCreate(
                username=demo.username,
                display_name=demo.display_name,
                email=f"{demo.username}@example.org",
                team=demo.team,
                password=demo.password,
                roles=list(demo.roles),
            ),
            actor=OPERATOR,
        )
    _remember_seeded_hashes(session=session)
    session.commit()
    return len(DEMO_USERS)


def _remember_seeded_hashes(*, session: Session) -> None:
    # Every demo account has the demo password right now: note its hash's fingerprint.
    seeded = session.exec(
        select(User.password_hash).where(col(User.username).in_(DEMO_USERNAMES))
    ).all()
    session.merge(
        AppMeta(key=SEEDED_HASHES, value=",".join(sorted(_fingerprint(h) for h in seeded)))
    )


def seed_demo(*, session: Session, scale: float = 1.0, seed: int = 7) -> dict[str, int]:
    """Create the demo users and every area's demo data; returns counts."""
    rng = random.Random(seed)
    created = {"users": seed_users(session=session)}
    for seeder in AREA_SEEDERS:
        created.update(seeder(session, rng, scale))
    session.merge(AppMeta(key=DEMO_MARKER, value=utcnow().isoformat()))
    _remember_seeded_hashes(session=session)
    session.commit()
    return created


def is_empty(*, session: Session) -> bool:
    """True when no user exists yet (a fresh database)."""
    return count_users(session=session) == 0


def is_demo(*, session: Session) -> bool:
    """True when this database was filled by `seed_demo`."""
    return session.get(AppMeta, DEMO_MARKER) is not None
