"""Common given-name variants, so "Bob" and "Robert" compare as one name."""

from functools import lru_cache

# Each group: the canonical form first, then nicknames and variant spellings.
GROUPS = (
    "robert bob bobby rob robbie bert",
    "william bill billy will willy liam",
    "elizabeth liz lizzie beth betty eliza elisabeth libby",
    "margaret maggie meg peggy marge margie greta",
    "katherine kate katie kathy cathy catherine kathryn kat kitty",
    "richard rick ricky dick rich richie",
    "james jim jimmy jamie",
    "john jack johnny jon",
    "jonathan jon jonny",
    "michael mike mick mickey mikey",
    "thomas tom tommy",
    "joseph joe joey",
    "charles charlie chuck chas",
    "edward ed eddie ted teddy ned",
    "anthony tony",
    "christopher chris kit",
    "christine chris chrissie christina kristina",
    "daniel dan danny",
    "david dave davy",
    "matthew matt matty",
    "andrew andy drew",
    "alexander alex sandy alec",
    "alexandra alex sandra lexi",
    "benjamin ben benny",
    "samuel sam sammy",
    "samantha sam sammie",
    "nicholas nick nicky",
    "stephen steve stevie steven",
    "timothy tim timmy",
    "patrick pat paddy",
    "patricia pat patty trish tricia",
    "peter pete",
    "philip phil",
    "susan sue susie suzanne",
    "jennifer jen jenny jenna",
    "rebecca becky becca",
    "deborah debbie deb debra",
    "victoria vicky tori",
    "abigail abby gail",
    "jessica jess jessie",
    "amanda mandy",
    "barbara barb babs",
    "dorothy dot dottie",
    "frances fran frankie",
    "francis frank frankie",
    "gregory greg",
    "harold harry hal",
    "henry harry hank",
    "joshua josh",
    "kenneth ken kenny",
    "lawrence larry laurie",
    "leonard leo len lenny",
    "louise lou lulu",
    "mary molly polly mae",
    "nathaniel nate nathan nat",
    "raymond ray",
    "ronald ron ronnie",
    "donald don donnie",
    "gerald gerry jerry",
    "theodore theo ted teddy",
    "vincent vince vinny",
    "zachary zach zack",
    "eleanor ellie nora elle",
    "helen nell nellie",
    "isabella isabel bella izzy isobel",
    "josephine jo josie",
    "judith judy jude",
    "kimberly kim",
    "natalie nat natty",
    "pamela pam",
    "sarah sara sally sadie",
    "teresa tess tessa terry theresa",
    "valerie val",
    "virginia ginny",
    "ashley ash",
    "oliver ollie",
    "olivia liv livvy",
    "sophia sophie",
    "emily em emmy",
    "emma em emmie",
    "hannah anna annie",
    "ann anne annie nancy",
    "caroline carol carrie",
    "cynthia cindy",
    "gabriel gabe",
    "gabriella gabby ella",
    "aleksander olek",
    "aleksandra ola",
    "francesca fran chesca",
    "giuseppe beppe peppe",
    "johann hans",
    "wolfgang wolf",
    "siobhan shiv",
    "sean shaun shawn",
    "mohammed mohammad muhammad mohamed",
    "yusuf yousef youssef joseph",
    "ibrahim ebrahim",
    "aleksei alexei alexey",
    "dmitri dmitry dima",
    "ekaterina katya",
)


@lru_cache(maxsize=1)
def _table() -> dict[str, str]:
    table: dict[str, str] = {}
    for group in GROUPS:
        names = group.split()
        for name in names:
            # A nickname shared by several names (chris, sam) keeps its first group.
            table.setdefault(name, names[0])
    return table


def canonical_given(name: str) -> str:
    """The canonical form of a folded given name ("bob" -> "robert"); itself if unknown."""
    return _table().get(name, name)


def _deletions(name: str) -> set[str]:
    return {name[:i] + name[i + 1 :] for i in range(len(name))} | {name}


@lru_cache(maxsize=1)
def _by_deletion() -> dict[str, frozenset[str]]:
    """Every name of the table under each of its one-letter deletions (symmetric delete)."""
    found: dict[str, set[str]] = {}
    for name in _table():
        for variant in _deletions(name):
            found.setdefault(variant, set()).add(name)
    return {k: frozenset(v) for k, v in found.items()}


@lru_cache(maxsize=65536)
def canonical_given_fuzzy(name: str) -> str:
    """Like canonical_given, but a name one typo from a known one ("cahty", "sephen") takes
    that name's canonical form; an unknown or ambiguous name stays as it is."""
    table = _table()
    if name in table or len(name) < 3:
        return table.get(name, name)
    from rapidfuzz.distance import OSA

    near = {
        table[known]
        for variant in _deletions(name)
        for known in _by_deletion().get(variant, ())
        if abs(len(known) - len(name)) <= 1 and OSA.distance(known, name) <= 1
    }
    return next(iter(near)) if len(near) == 1 else name
