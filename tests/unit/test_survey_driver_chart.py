"""The driver matrix chart: points without labels, both split lines, a name per quadrant,
and the quadrant rule it draws."""

from components.survey_driver_charts import driver_chart
from components.survey_drivers import signed
from db.surveys.drivers import FOCUS, MAINTAIN, MONITOR, STRENGTH, quadrant

DRIVERS = [
    {
        "code": "a",
        "question": "A?",
        "factor": "growth",
        "favourable": 52.0,
        "impact": 0.61,
        "quadrant": FOCUS,
        "n": 40,
    },
    {
        "code": "b",
        "question": "B?",
        "factor": "workload",
        "favourable": 81.0,
        "impact": 0.58,
        "quadrant": STRENGTH,
        "n": 40,
    },
    {
        "code": "c",
        "question": "C?",
        "factor": "growth",
        "favourable": 60.0,
        "impact": None,
        "quadrant": "",
        "n": 12,
    },
]


def test_the_matrix_draws_placed_items_both_lines_and_each_quadrant_name_once() -> None:
    spec = driver_chart(DRIVERS, median_impact=0.5, company_favourable=66.0).to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks.count("rule") == 2 and marks.count("circle") == 1 and marks.count("text") == 4
    points = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "circle")
    assert "text" not in points["encoding"]  # no labels on points: they would overlap
    assert {t["field"] for t in points["encoding"]["tooltip"]} >= {"question", "impact"}
    names = [
        row["quadrant"] for data in spec["datasets"].values() for row in data if "align" in row
    ]
    assert sorted(names) == sorted([FOCUS, STRENGTH, MONITOR, MAINTAIN])
    items = [row for data in spec["datasets"].values() for row in data if "item" in row]
    assert [row["item"] for row in items] == ["a", "b"]  # an item without impact is not placed
    # One fixed domain on every layer, around the points and the lines, not from zero.
    domains = {
        str(layer["encoding"][axis]["scale"]["domain"])
        for layer in spec["layer"]
        for axis in ("x",)
        if axis in layer["encoding"]
    }
    assert domains == {"[44.0, 89.0]"}


def test_an_item_on_a_line_counts_as_high() -> None:
    assert quadrant(0.5, 66.0, 0.5, 66.0) == STRENGTH
    assert quadrant(0.5, 65.9, 0.5, 66.0) == FOCUS
    assert quadrant(0.49, 66.0, 0.5, 66.0) == MAINTAIN
    assert quadrant(0.49, 10.0, 0.5, 66.0) == MONITOR


def test_differences_carry_their_sign_and_a_withheld_one_is_blank() -> None:
    rows = signed(
        [
            {"group": "Sales", "vs company": 4.0, "vs previous wave": -2.5},
            {"group": "Ops", "vs company": None, "vs previous wave": 0.0},
        ]
    )
    assert [(r["vs company"], r["vs previous wave"]) for r in rows] == [
        ("+4.0", "−2.5"),
        ("", "+0.0"),
    ]
