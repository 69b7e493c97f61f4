"""The small-group rule, in one place: the threshold and the cover against subtraction.

Every report that shows counts of people (survey results and comments, case insights,
customer feedback, team outcomes) hides groups smaller than its threshold with
`hide_small_groups`, and a report that is read again as answers arrive moves only in
steps of the threshold (`release_step`). Imports nothing of Rapport.
"""

SMALL = "fewer than {k} responses"
COVER = "hidden so that a smaller group cannot be worked out by subtraction"
# Case insights' threshold: no figure about fewer cases is shown or derivable. Cases are
# counted per category and month, where a few already identify a reporter.
CASE_MIN_GROUP = 3


def threshold_note(k: int, what: str) -> str:
    """The sentence a report shows about its threshold, from the threshold it applies."""
    return (
        f"Figures about fewer than {k} {what} are withheld, and so is any figure that "
        "would let one be worked out by subtraction."
    )


def big_enough(n: int, k: int) -> bool:
    """The threshold: a figure about `n` people may stand on its own when `n` reaches `k`.

    For a single figure with no siblings beside it (an audience's size, the answered
    count of a whole survey); figures shown side by side go through `hide_small_groups`.
    """
    return n >= k


def hide_small_groups(counts: dict[str, int], k: int) -> dict[str, str]:
    """The small-group rule: which sibling groups to hide, and why.

    Groups under `k` are hidden, then the next-smallest siblings join them until the
    hidden ones together hold none or at least `k`, so a shown total minus the shown
    siblings never reveals a group under the threshold. Every report that shows counts
    of people side by side under a shown total uses this one function.
    """
    hidden = {name: SMALL.format(k=k) for name, n in counts.items() if not big_enough(n, k)}
    visible = sorted((n, name) for name, n in counts.items() if name not in hidden)
    while 0 < sum(counts[name] for name in hidden) < k and visible:
        _n, name = visible.pop(0)
        hidden[name] = COVER
    return hidden


def release_step(
    released: dict[tuple[str, str], int], current: dict[tuple[str, str], int], k: int
) -> dict[tuple[str, str], int]:
    """The time rule: the counts per leaf that a new release of an open survey shows.

    A leaf (department, team) moves to its current count only once it has gained at
    least `k` answers since its last release; otherwise it keeps the released count.
    Every group is a union of leaves, so between any two views a group's count (and
    every figure summed over its answers) changes by nothing or by `k` answers or more:
    the same figure at two times never isolates fewer than `k` people.
    """
    leaves = set(released) | set(current)
    step: dict[tuple[str, str], int] = {}
    for leaf in leaves:
        before = released.get(leaf, 0)
        now = current.get(leaf, 0)
        step[leaf] = now if now - before >= k else before
    return {leaf: n for leaf, n in step.items() if n}
