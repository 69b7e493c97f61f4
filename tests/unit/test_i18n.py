"""The message table covers every sentence the code translates, in every language."""

import ast
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.i18n import MESSAGES
from db.cases.evidence import ACCEPTED
from db.consent.preferences import CHANNEL_WORDS, PREFERRED_CHANNELS
from db.consent.self_service import KIND_WORDS
from db.consent.state import ConsentState
from db.models.cases import Urgency
from db.people.ask_us import ANSWER_CHANNELS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "pages").glob("*.py"), *(ROOT / "components").glob("*.py")])

# Labels the public pages show from db's own tables, through t(...) on a value.
TABLE_WORDS = {
    *CHANNEL_WORDS.values(),
    *(words.lower() for words in CHANNEL_WORDS.values()),
    *PREFERRED_CHANNELS,
    *ANSWER_CHANNELS,
    *KIND_WORDS.values(),
    *(state.value for state in ConsentState),
    *(urgency.value for urgency in Urgency),
    "No preference",
    ACCEPTED,
}
# Sentences that read the same in a translation (a code, a word both languages share).
SAME_IN: dict[str, set[str]] = {"fr": set()}


def translated_literals() -> dict[str, str]:
    """Every `t("literal")` in pages and components, with where it is (file:line)."""
    found: dict[str, str] = {}
    for path, node in calls_and_constants():
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "t"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def calls_and_constants() -> Iterator[tuple[Path, ast.AST]]:
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call | ast.Constant):
                yield path, node


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_the_pages_translate_their_own_words() -> None:
    used = translated_literals()
    # Each public page goes through t() for all its words, not just its title.
    for page in ("raise_concern", "follow_up", "preferences", "my_data", "ask_us"):
        assert sum(where.startswith(f"pages/{page}.py:") for where in used.values()) >= 10, page


@pytest.mark.parametrize("language", sorted(MESSAGES))
def test_every_translated_sentence_has_an_entry(language: str) -> None:
    table = MESSAGES[language]
    missing = {text: where for text, where in translated_literals().items() if text not in table}
    missing |= {text: "a db label table" for text in TABLE_WORDS if text not in table}
    assert not missing, missing


@pytest.mark.parametrize("language", sorted(MESSAGES))
def test_placeholders_match_the_english(language: str) -> None:
    wrong = {
        key: (sorted(placeholders(key)), sorted(placeholders(value)))
        for key, value in MESSAGES[language].items()
        if placeholders(key) != placeholders(value)
    }
    assert not wrong, wrong


@pytest.mark.parametrize("language", sorted(MESSAGES))
def test_no_entry_is_left_in_english(language: str) -> None:
    same = {key for key, value in MESSAGES[language].items() if key == value}
    assert same == SAME_IN.get(language, set())


@pytest.mark.parametrize("language", sorted(MESSAGES))
def test_no_entry_is_unused(language: str) -> None:
    # A label may reach t() from a page's own table of options (t(AGREE_LABELS[...])).
    written = {
        node.value
        for _, node in calls_and_constants()
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert not set(MESSAGES[language]) - written - TABLE_WORDS
