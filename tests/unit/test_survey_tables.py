"""Survey tables read as sentences: whole counts, blank withheld cells, no plumbing."""

import csv
import io

from components.survey_tables import readable_csv, readable_frame

ROWS = [
    {"group": "Everyone", "level": 0, "invited": 40, "responses": 9, "note": ""},
    {"group": "Payroll", "level": 1, "invited": 3, "responses": None, "note": "fewer than 5"},
]


def test_the_csv_writes_whole_counts_and_leaves_a_withheld_count_empty() -> None:
    table = list(csv.reader(io.StringIO(readable_csv(ROWS))))
    assert table[0] == ["group", "invited", "responses", "note"]
    assert table[1] == ["Everyone", "40", "9", ""]
    assert table[2] == ["Payroll", "3", "", "fewer than 5"]


def test_the_frame_keeps_counts_whole_and_renames_the_answer_count() -> None:
    frame = readable_frame([*ROWS, {"group": "x", "level": 2, "n_answers": 4}])
    assert "level" not in frame.columns and "answers" in frame.columns
    assert str(frame["responses"].dtype) == "Int64"
    assert frame["responses"][0] == 9 and frame["responses"].isna().tolist() == [False, True, True]
