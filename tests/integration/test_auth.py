"""Sign-in, lockout, sessions and user administration, on every backend."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from db.auth.accounts import (
    authenticate,
    change_own_password,
    close_session,
    create_user,
    deactivate_user,
    get_user_by_username,
    open_session,
    reset_password,
    resolve_session,
    set_roles,
    unlock_user,
    update_user,
)
from db.auth.actor import OPERATOR
from db.core.errors import AccountLocked, AuthenticationFailed, Conflict, Forbidden, ValidationError
from db.core.types import utcnow
from db.demo.fixtures import DEMO_PASSWORD, seed_users
from db.models.auth import AuthSession, Role, User, UserCreate, UserUpdate


@pytest.fixture
def world(session: Session) -> Session:
    seed_users(session=session)
    return session


def user(session: Session, username: str) -> User:
    found = get_user_by_username(session=session, username=username)
    assert found is not None
    return found


def new_user_in(**overrides: object) -> UserCreate:
    values: dict[str, object] = {
        "username": "casey",
        "display_name": "Casey Jones",
        "email": "casey@example.org",
        "team": "North",
        "password": "correct horse battery",
        "roles": [Role.sales],
    }
    values.update(overrides)
    return UserCreate.model_validate(values)


def test_the_right_password_signs_in_and_resets_the_failure_count(world: Session) -> None:
    with pytest.raises(AuthenticationFailed):
        authenticate(session=world, username="sales", password="not the password")
    signed_in = authenticate(session=world, username="SALES ", password=DEMO_PASSWORD)
    assert signed_in.username == "sales"
    assert user(world, "sales").failed_logins == 0


def test_an_unknown_username_gets_the_same_message_as_a_wrong_password(world: Session) -> None:
    with pytest.raises(AuthenticationFailed) as unknown:
        authenticate(session=world, username="nobody", password="whatever it is")
    with pytest.raises(AuthenticationFailed) as wrong:
        authenticate(session=world, username="hr", password="whatever it is")
    assert str(unknown.value) == str(wrong.value) == "Username or password is incorrect."


def test_five_failures_lock_the_account_even_for_the_right_password(world: Session) -> None:
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            authenticate(session=world, username="hr", password="wrong password!")
    with pytest.raises(AccountLocked):
        authenticate(session=world, username="hr", password="wrong password!")
    with pytest.raises(AccountLocked, match="locked for another 15 minutes"):
        authenticate(session=world, username="hr", password=DEMO_PASSWORD)
    locked = user(world, "hr")
    assert locked.locked_until is not None
    assert locked.locked_until > utcnow() + timedelta(minutes=14)


def test_the_lock_is_stored_per_account_so_a_new_session_still_sees_it(
    world: Session,
) -> None:
    for _ in range(5):
        with pytest.raises((AuthenticationFailed, AccountLocked)):
            authenticate(session=world, username="hr", password="wrong password!")
    with Session(world.get_bind()) as other:
        with pytest.raises(AccountLocked):
            authenticate(session=other, username="hr", password=DEMO_PASSWORD)
    # Other accounts are not affected.
    assert authenticate(session=world, username="sales", password=DEMO_PASSWORD)


def test_the_lock_expires_after_its_cooldown(world: Session) -> None:
    for _ in range(5):
        with pytest.raises((AuthenticationFailed, AccountLocked)):
            authenticate(session=world, username="hr", password="wrong password!")
    later = utcnow() + timedelta(minutes=16)
    assert authenticate(session=world, username="hr", password=DEMO_PASSWORD, now=later)
    assert user(world, "hr").locked_until is None


def test_the_cooldown_length_and_attempts_are_configurable(
    world: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAPPORT_LOCKOUT_ATTEMPTS", "2")
    monkeypatch.setenv("RAPPORT_LOCKOUT_MINUTES", "3")
    with pytest.raises(AuthenticationFailed):
        authenticate(session=world, username="hr", password="wrong password!")
    with pytest.raises(AccountLocked, match="3 minutes"):
        authenticate(session=world, username="hr", password="wrong password!")


def test_an_admin_can_unlock_but_nobody_else(world: Session) -> None:
    for _ in range(5):
        with pytest.raises((AuthenticationFailed, AccountLocked)):
            authenticate(session=world, username="hr", password="wrong password!")
    locked_id = user(world, "hr").id
    assert locked_id is not None
    with pytest.raises(Forbidden):
        unlock_user(session=world, user_id=locked_id, actor=user(world, "manager"))
    unlock_user(session=world, user_id=locked_id, actor=user(world, "admin"))
    assert authenticate(session=world, username="hr", password=DEMO_PASSWORD)


def test_a_deactivated_user_cannot_sign_in_and_their_sessions_end(world: Session) -> None:
    sales = user(world, "sales")
    token = open_session(session=world, user=sales).token
    assert resolve_session(session=world, token=token) is not None
    assert sales.id is not None
    deactivate_user(session=world, user_id=sales.id, actor=user(world, "admin"))
    assert resolve_session(session=world, token=token) is None
    with pytest.raises(AuthenticationFailed, match="deactivated"):
        authenticate(session=world, username="sales", password=DEMO_PASSWORD)


def test_signing_out_revokes_the_session_so_the_token_never_works_again(
    world: Session,
) -> None:
    token = open_session(session=world, user=user(world, "privacy")).token
    close_session(session=world, token=token)
    assert resolve_session(session=world, token=token) is None
    row = world.exec(select(AuthSession)).one()
    assert row.revoked_at is not None
    assert token not in row.token_hash  # only a hash of the token is stored


def test_a_session_expires_after_the_configured_hours(world: Session) -> None:
    token = open_session(session=world, user=user(world, "privacy")).token
    assert resolve_session(session=world, token=token, now=utcnow() + timedelta(hours=7))
    assert resolve_session(session=world, token=token, now=utcnow() + timedelta(hours=9)) is None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short one", "at least 12 characters"),
        ("x" * 73, "at most 72 bytes"),
        (" padded password ", "spaces at the start or end"),
        ("casey-is-my-password", "do not include your username"),
    ],
)
def test_passwords_that_break_the_policy_are_refused_with_the_fix(
    world: Session, password: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        create_user(session=world, user_in=new_user_in(password=password), actor=OPERATOR)
    assert get_user_by_username(session=world, username="casey") is None


def test_only_admins_create_users(world: Session) -> None:
    with pytest.raises(Forbidden):
        create_user(session=world, user_in=new_user_in(), actor=user(world, "manager"))
    created = create_user(session=world, user_in=new_user_in(), actor=user(world, "admin"))
    assert created.roles == {Role.sales}
    assert authenticate(session=world, username="casey", password="correct horse battery")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"username": "x"}, "Username"),
        ({"username": "Has Space"}, "Username"),
        ({"email": "not-an-email"}, "Email"),
        ({"display_name": "  "}, "Name"),
        ({"roles": []}, "Roles"),
    ],
)
def test_bad_user_details_are_refused_naming_the_field(
    world: Session, overrides: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError, match=f"^{field}:"):
        create_user(session=world, user_in=new_user_in(**overrides), actor=OPERATOR)


def test_a_taken_username_is_a_conflict(world: Session) -> None:
    with pytest.raises(Conflict):
        create_user(session=world, user_in=new_user_in(username="SALES"), actor=OPERATOR)


def test_a_user_changes_their_own_password_and_other_sessions_end(world: Session) -> None:
    hr = user(world, "hr")
    here = open_session(session=world, user=hr).token
    elsewhere = open_session(session=world, user=hr).token
    with pytest.raises(ValidationError, match="Current password"):
        change_own_password(
            session=world, actor=hr, current_password="wrong", new_password="a brand new one"
        )
    change_own_password(
        session=world,
        actor=hr,
        current_password=DEMO_PASSWORD,
        new_password="a brand new one",
        keep_session=here,
    )
    assert resolve_session(session=world, token=here) is not None
    assert resolve_session(session=world, token=elsewhere) is None
    assert authenticate(session=world, username="hr", password="a brand new one")


def test_an_admin_resets_a_password_and_the_user_is_signed_out(world: Session) -> None:
    hr = user(world, "hr")
    token = open_session(session=world, user=hr).token
    assert hr.id is not None
    with pytest.raises(Forbidden):
        reset_password(session=world, user_id=hr.id, new_password="x" * 20, actor=hr)
    reset_password(
        session=world, user_id=hr.id, new_password="reset by the admin", actor=user(world, "admin")
    )
    assert resolve_session(session=world, token=token) is None
    assert authenticate(session=world, username="hr", password="reset by the admin")


def test_the_last_active_admin_cannot_lose_admin_or_be_deactivated(world: Session) -> None:
    admin = user(world, "admin")
    assert admin.id is not None
    with pytest.raises(Conflict, match="last active administrator"):
        set_roles(session=world, user_id=admin.id, roles=[Role.manager], actor=OPERATOR)
    with pytest.raises(Conflict):
        deactivate_user(session=world, user_id=admin.id, actor=admin)


def test_an_edit_from_a_stale_form_is_refused_and_loses_nothing(world: Session) -> None:
    sales = user(world, "sales")
    assert sales.id is not None
    stale_version = sales.version
    admin = user(world, "admin")
    update_user(
        session=world,
        user_id=sales.id,
        patch=UserUpdate(team="East"),
        version=stale_version,
        actor=admin,
    )
    with pytest.raises(Conflict, match="changed by someone else"):
        update_user(
            session=world,
            user_id=sales.id,
            patch=UserUpdate(team="West"),
            version=stale_version,
            actor=admin,
        )
    assert user(world, "sales").team == "East"
