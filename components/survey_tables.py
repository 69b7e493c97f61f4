"""Survey report rows as people read them: no plumbing columns, whole counts, blank gaps."""

from typing import Any

import pandas as pd

from db.core.spreadsheets import records_csv

# Columns that are only the report's plumbing, never shown.
PLUMBING = {"level"}
# Column names as people read them.
HEADINGS = {"n_answers": "answers", "n": "answers"}


def readable_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with plumbing dropped, headings renamed and a withheld figure left blank."""
    return [
        {
            HEADINGS.get(name, name): ("" if value is None else value)
            for name, value in row.items()
            if name not in PLUMBING
        }
        for row in rows
    ]


def readable_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A frame of the rows: counts stay whole numbers where some are withheld (not 9.0)."""
    names = list(dict.fromkeys(k for row in rows for k in row if k not in PLUMBING))
    columns: dict[str, Any] = {}
    for name in names:
        raw = [row.get(name) for row in rows]
        values = [v for v in raw if v is not None]
        if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            columns[name] = pd.array(raw, dtype="Int64")
        elif values and all(isinstance(v, str) for v in values):
            columns[name] = ["" if v is None else v for v in raw]
        else:
            columns[name] = raw
    return pd.DataFrame(columns).rename(columns=HEADINGS)


def readable_csv(rows: list[dict[str, Any]]) -> str:
    """Exactly the shown rows as CSV: whole counts as 9, a withheld figure as an empty cell."""
    return records_csv(readable_rows(rows))
