"""People and outcomes charts: few names that do not collide, a team against the company."""

from components.experience_charts import against_company_chart, labelled_teams, scatter_chart


def test_close_teams_are_not_both_named_and_the_extremes_are() -> None:
    rows = [
        {"team": "North", "engagement": 60.0, "outcome": 10.0},
        {"team": "Nearby", "engagement": 60.4, "outcome": 10.1},
        {"team": "South", "engagement": 80.0, "outcome": 30.0},
        {"team": "East", "engagement": 70.0, "outcome": 20.0},
    ]
    named = labelled_teams(rows)
    assert {"North", "South"} <= named
    assert "Nearby" not in named
    assert len(labelled_teams(rows * 3, most=2)) == 2


def test_only_the_named_teams_carry_a_label_and_every_point_a_tooltip() -> None:
    rows = [
        {"team": "North", "engagement": 60.0, "outcome": 10.0},
        {"team": "Nearby", "engagement": 60.4, "outcome": 10.1},
        {"team": "South", "engagement": 80.0, "outcome": 30.0},
    ]
    spec = scatter_chart(rows, outcome="win rate (%)").to_dict()
    points, labels = spec["layer"]
    assert [t["field"] for t in points["encoding"]["tooltip"]] == ["team", "engagement", "outcome"]
    one_of = labels["transform"][0]["filter"]["oneOf"]
    assert sorted(one_of) == ["North", "South"]
    assert labels["mark"]["dx"] > 0 and labels["mark"]["dy"] < 0


def test_a_team_against_the_company_is_a_bar_and_a_rule_with_money_in_whole_pounds() -> None:
    rows = [
        {"who": "team", "name": "North", "value": 1200.0},
        {"who": "company", "name": "Company", "value": 900.0},
    ]
    spec = against_company_chart(rows, outcome="pipeline (GBP)", money=True).to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["bar", "tick"]
    assert spec["layer"][1]["mark"]["color"] == "#d62728"
    assert spec["layer"][0]["encoding"]["x"]["type"] == "quantitative"
    assert spec["layer"][0]["encoding"]["tooltip"][1]["format"] == ",.0f"
