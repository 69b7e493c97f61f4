"""The API tokens page: an administrator creates a token (shown once), sees it listed
without its secret, and revokes it."""

from tests.app.conftest import RunPage


def test_an_admin_creates_a_token_sees_it_once_and_revokes_it(run_page: RunPage) -> None:
    at = run_page("pages/api_tokens.py", "admin")
    assert not at.exception
    at.text_input(key="token_name").input("web form")
    at.selectbox(key="token_user").select("sales")
    at.button(key="FormSubmitter:create_token-Create token").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("shown only this once" in s.value for s in at.success), [e.value for e in at.error]
    (code,) = at.code
    secret = code.value
    assert secret.startswith("rpt_")
    listed = at.dataframe[0].value
    row = listed[listed["Name"] == "web form"].iloc[0]
    assert row["Acts as"] == "sales" and row["Status"] == "active"
    assert secret not in listed.to_string()
    # Any later run no longer shows it.
    at.run()
    assert not at.code
    at.selectbox(key="revoke_name").select("web form")
    at.button(key="revoke_token").click()
    at.run()
    assert any("Revoked web form" in s.value for s in at.success)
    listed = at.dataframe[0].value
    assert listed[listed["Name"] == "web form"].iloc[0]["Status"] == "revoked"


def test_a_second_token_of_the_same_name_is_refused_in_a_sentence(run_page: RunPage) -> None:
    at = run_page("pages/api_tokens.py", "admin")
    for _ in range(2):
        at.text_input(key="token_name").input("chat tool")
        at.button(key="FormSubmitter:create_token-Create token").click()
        at.run()
    assert any("already exists" in e.value for e in at.error)
    assert len(at.code) == 0
