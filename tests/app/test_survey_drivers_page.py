"""The results page's Drivers view and the heatmap's comparisons, on the demo waves."""

from streamlit.testing.v1 import AppTest

from tests.app.conftest import RunPage


def results_of(at: AppTest, survey: str, view: str, group: str | None = None) -> AppTest:
    """Pick a survey by the start of its name, then a group by its end, then a view."""
    survey_box = at.selectbox(key="results_survey")
    survey_box.select(next(o for o in survey_box.options if o.startswith(survey)))
    at.run()
    if group is not None:
        group_box = at.selectbox(key="results_group")
        group_box.select(next(o for o in group_box.options if o.endswith(group)))
        at.run()
    at.radio(key="results_view").set_value(view)
    at.run()
    assert not at.exception
    return at


def test_hr_sees_the_driver_matrix_with_strengths_and_focus_areas(run_page: RunPage) -> None:
    at = results_of(
        run_page("pages/survey_results.py", "hr"), "Engagement survey, wave 3", "Drivers"
    )
    assert "Driver matrix" in [h.value for h in at.subheader]
    specs = [chart.proto.spec for chart in at.get("vega_lite_chart")]
    assert any("Impact on engagement" in s and "Focus here" in s for s in specs), specs
    headings = [m.value for m in at.markdown]
    assert "**Top strengths**" in headings and "**Top focus areas**" in headings
    table = next(df.value for df in at.dataframe if "quadrant" in df.value.columns)
    assert set(table["quadrant"]) <= {"Focus here", "Strength", "Monitor", "Maintain"}
    assert table["impact (r)"].notna().all()
    assert any("Pearson's r" in c.value for c in at.caption)


def test_a_small_team_gets_no_matrix_and_the_reason(run_page: RunPage) -> None:
    at = results_of(
        run_page("pages/survey_results.py", "hr"),
        "Engagement survey, wave 3",
        "Drivers",
        "Platform",
    )
    assert "Driver matrix" not in [h.value for h in at.subheader]
    assert any("too few responses to estimate impact" in i.value for i in at.info), at.info
    withheld = results_of(at, "Engagement survey, wave 3", "Drivers", "Payroll")
    assert any("No driver matrix for" in i.value and "fewer than" in i.value for i in withheld.info)
    assert not any("quadrant" in df.value.columns for df in withheld.dataframe)


def test_the_heatmap_compares_with_the_company_and_the_previous_wave(run_page: RunPage) -> None:
    at = results_of(
        run_page("pages/survey_results.py", "hr"), "Engagement survey, wave 2", "Heatmap"
    )
    table = next(df.value for df in at.dataframe if "vs company" in df.value.columns)
    assert "vs previous wave" in table.columns
    shown = table[table["favourable"].notna()]
    assert shown["vs company"].str.match(r"^[+−]\d+\.\d$").all()
    assert shown["vs previous wave"].str.match(r"^[+−]\d+\.\d$").any()
    first = results_of(at, "Engagement survey, wave 1", "Heatmap")
    table = next(df.value for df in first.dataframe if "vs company" in df.value.columns)
    # Wave 1 was not copied from an earlier wave: that side is blank, with the reason.
    assert (table["vs previous wave"] == "").all()
    assert table["note"].str.contains("not copied from an earlier wave").any()


def test_a_manager_sees_the_drivers_of_their_own_team(run_page: RunPage) -> None:
    at = results_of(
        run_page("pages/survey_results.py", "manager"), "Engagement survey, wave 3", "Drivers"
    )
    assert at.selectbox(key="results_group").value.endswith("North")
    assert "Driver matrix" in [h.value for h in at.subheader] or any(
        "No driver matrix for North" in i.value for i in at.info
    )
