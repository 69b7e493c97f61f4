"""The Admin, Audit log, Account and Home pages do their jobs through the UI."""

from tests.app.conftest import RunPage


def test_an_admin_creates_a_user_from_the_form(run_page: RunPage) -> None:
    at = run_page("pages/admin.py", "admin")
    at.text_input(key="new_username").input("robin")
    at.text_input(key="new_name").input("Robin Hood")
    at.text_input(key="new_email").input("robin@example.org")
    at.text_input(key="new_password").input("sherwood forest 1")
    at.text_input(key="new_repeat").input("sherwood forest 1")
    at.multiselect(key="new_roles").select("hr")
    at.button(key="FormSubmitter:create_user-Create user").click()
    at.run()
    assert not at.exception
    assert any("Created robin" in s.value for s in at.success), [e.value for e in at.error]


def test_a_short_password_is_refused_on_the_form_naming_the_field(run_page: RunPage) -> None:
    at = run_page("pages/admin.py", "admin")
    at.text_input(key="new_username").input("shorty")
    at.text_input(key="new_name").input("Shorty")
    at.text_input(key="new_email").input("shorty@example.org")
    at.text_input(key="new_password").input("too short")
    at.text_input(key="new_repeat").input("too short")
    at.multiselect(key="new_roles").select("sales")
    at.button(key="FormSubmitter:create_user-Create user").click()
    at.run()
    assert any(e.value.startswith("Password:") for e in at.error)
    # What was typed is still there to fix.
    assert at.text_input(key="new_username").value == "shorty"


def test_the_audit_log_lists_events_and_verifies_the_chain(run_page: RunPage) -> None:
    at = run_page("pages/audit_log.py", "admin")
    assert not at.exception
    assert at.dataframe, "the log should show the seeded events"
    at.button(key="verify_chain").click()
    at.run()
    assert any("intact" in s.value for s in at.success)


def test_a_wrong_password_on_the_sign_in_form_says_so(run_page: RunPage) -> None:
    at = run_page("app.py")
    at.text_input[0].input("reviewer")
    at.text_input[1].input("certainly not it")
    at.button[0].click()
    at.run()
    assert any("incorrect" in e.value for e in at.error)
    assert not at.title


def test_the_right_password_on_the_sign_in_form_opens_home(run_page: RunPage) -> None:
    at = run_page("app.py")
    at.text_input[0].input("reviewer")
    at.text_input[1].input("rapport-demo-2026")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert at.title and "Rui" in at.title[0].value


def test_a_user_changes_their_password_on_my_account(run_page: RunPage) -> None:
    at = run_page("pages/account.py", "privacy")
    form = {t.label: t for t in at.text_input}
    form["Current password"].input("rapport-demo-2026")
    form["New password"].input("another long password")
    form["Repeat new password"].input("another long password")
    at.button(key="FormSubmitter:change_password-Change password").click()
    at.run()
    assert any("Password changed" in s.value for s in at.success), [e.value for e in at.error]


def test_admin_home_shows_users_and_locked_accounts(run_page: RunPage) -> None:
    at = run_page("app.py", "admin")
    labels = {m.label for m in at.metric}
    assert {"Users", "Locked accounts"} <= labels


def test_an_admin_changes_a_categorys_intake_questions_and_a_reviewer_may_not(
    run_page: RunPage,
) -> None:
    import pandas as pd

    at = run_page("pages/intake_questions.py", "admin")
    assert not at.exception, [e.value for e in at.exception]
    category = at.selectbox(key="iq_category").value
    key = f"iq_table_{category}"
    edited = pd.DataFrame(
        [
            {"Question": "Which ward were you on?", "Answered as": "text"},
            {"Question": "On which day did it start?", "Answered as": "date"},
        ]
    )
    # AppTest has no data editor driver: set the edited table the way a person's edit would.
    at.session_state[key] = {
        "edited_rows": {},
        "added_rows": [],
        "deleted_rows": list(range(len(at.dataframe[0].value) if at.dataframe else 0)),
    }
    at.run()
    at.session_state[key] = {
        "edited_rows": {},
        "added_rows": edited.to_dict("records"),
        "deleted_rows": list(range(len(at.dataframe[0].value) if at.dataframe else 0)),
    }
    at.run()
    at.button(key=f"iq_save_{category}").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("Saved 2 question(s)" in s.value for s in at.success), (
        [e.value for e in at.error],
        [s.value for s in at.success],
    )
    reviewer = run_page("pages/intake_questions.py", "reviewer")
    assert any("don't have access" in e.value for e in reviewer.error)
    assert [b.key for b in reviewer.button] == ["rapport_sign_out"]
