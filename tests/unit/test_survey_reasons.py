"""Why a survey group is hidden: its own size comes first, when that is the reason."""

from db.core.small_groups import COVER, SMALL
from db.surveys.privacy import PARENT, build_tree


def test_a_small_team_under_a_hidden_department_is_told_it_is_small() -> None:
    # Ops (4) is hidden for being small, and so is its one team of 4: the manager of
    # that team is told it has fewer than 5 responses, not that its parent is hidden.
    tree = {
        g.label: g
        for g in build_tree({("Sales", "North"): 6, ("Sales", "South"): 6, ("Ops", "A"): 4}, 5)
    }
    assert not tree["A"].shown
    assert tree["A"].reason == SMALL.format(k=5)


def test_a_team_big_enough_under_a_department_hidden_as_cover_names_its_parent() -> None:
    # Marketing (2) is small; Ops (5) is hidden beside it as cover, so its team of 5
    # is hidden because its department is.
    tree = {
        g.label: g for g in build_tree({("Sales", "North"): 6, ("Mkt", "M"): 2, ("Ops", "A"): 5}, 5)
    }
    assert tree["Ops"].reason == COVER
    assert tree["A"].reason == PARENT


def test_a_department_under_a_survey_too_small_to_show_is_told_it_is_small() -> None:
    tree = {g.label: g for g in build_tree({("Ops", "A"): 2, ("Ops", "B"): 1}, 5)}
    assert tree["Everyone"].reason == SMALL.format(k=5)
    assert tree["Ops"].reason == SMALL.format(k=5) and tree["A"].reason == SMALL.format(k=5)
