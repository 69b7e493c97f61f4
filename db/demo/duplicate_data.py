"""Labelled person records for measuring the matcher: originals and corrupted copies.

Each record carries `entity` (the true person); pairs with the same entity are the true
duplicates. Households (same surname, address and landline, different person) are
included on purpose: they are the pairs a careless matcher merges.
"""

import random
import string
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

GIVEN = (
    "James Robert John Michael William David Richard Joseph Thomas Charles Christopher "
    "Daniel Matthew Anthony Mark Donald Steven Paul Andrew Joshua Kenneth Kevin Brian "
    "George Timothy Ronald Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan "
    "Stephen Larry Justin Scott Brandon Benjamin Samuel Gregory Alexander Patrick Frank "
    "Raymond Jack Dennis Jerry Tyler Aaron Henry Adam Peter Nathan Zachary Oliver Liam "
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy "
    "Betty Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy "
    "Melissa Deborah Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley "
    "Anna Brenda Pamela Emma Nicole Helen Samantha Katherine Christine Debra Rachel "
    "Catherine Carolyn Janet Ruth Maria Heather Diane Virginia Julie Joyce Victoria "
    "Olivia Kelly Christina Lauren Joan Evelyn Judith Megan Andrea Cheryl Hannah Jacqueline "
    "Martha Gloria Teresa Ann Sara Madison Frances Kathryn Janice Jean Abigail Sophia "
    "Amira Chloe Eilidh Femi Hamza Ines Jonas Kasia Mei Noor Oisin Priya Rosa Sven Tariq "
    "Uma Viktor Wen Yusuf Zofia Mohammed Aisha Fatima Siobhan Niamh Ciaran Declan Aoife"
).split()
FAMILY_COMMON = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson "
    "Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel "
    "Jackson Wood Turner Martin Cooper Hill Ward Morris Moore Clark Lee King Baker "
    "Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett Young "
    "Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy "
    "Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson "
    "Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen "
    "Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens Jenkins "
    "Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews "
    "Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence "
    "Cole Atkinson Bradley Spencer Gill Dawson Ball Burton OBrien Watts Rose Booth Perry "
    "Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter "
    "Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland "
    "Hawkins Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner "
    "Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson "
    "Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates "
    "Hodgson Robson Curtis Hopkins OConnor Harper Coleman Watkins Moss McCarthy Chambers "
    "Chen Nakamura Kowalski Haddad Ibrahim Lindqvist Rossi Schmidt Tanaka Varga Nowak "
    "Fernandez Dubois Bianchi Jensen Novak Garcia Martinez Lopez Gonzalez Rodriguez"
).split()
_SYLLABLES = (
    "al an ar ber bor bran by car cha dal den dor el en er fal fen gar gil ham har hol "
    "ing kin lan ley lin mar mel mor nor ock on par pen quin ran rick rod sal sen ston "
    "tal ter thorn ton val ver wal well win wood worth yar"
).split()
NICKNAMES = {
    "Robert": "Bob",
    "William": "Bill",
    "Elizabeth": "Liz",
    "Margaret": "Peggy",
    "Katherine": "Kate",
    "Richard": "Rick",
    "James": "Jim",
    "Michael": "Mike",
    "Thomas": "Tom",
    "Joseph": "Joe",
    "Charles": "Charlie",
    "Edward": "Ted",
    "Anthony": "Tony",
    "Christopher": "Chris",
    "Daniel": "Dan",
    "David": "Dave",
    "Matthew": "Matt",
    "Andrew": "Andy",
    "Alexander": "Alex",
    "Benjamin": "Ben",
    "Samuel": "Sam",
    "Nicholas": "Nick",
    "Stephen": "Steve",
    "Timothy": "Tim",
    "Patrick": "Paddy",
    "Patricia": "Trish",
    "Jennifer": "Jenny",
    "Rebecca": "Becky",
    "Deborah": "Debbie",
    "Victoria": "Vicky",
    "Abigail": "Abby",
    "Jessica": "Jess",
    "Amanda": "Mandy",
    "Susan": "Sue",
    "Samantha": "Sam",
    "Catherine": "Cathy",
    "Pamela": "Pam",
    "Judith": "Judy",
    "Frances": "Fran",
    "Sarah": "Sally",
    "Jonathan": "Jon",
    "Gregory": "Greg",
    "Kenneth": "Ken",
    "Joshua": "Josh",
    "Zachary": "Zach",
}
STREETS = "High Church Station Victoria Green Manor Park Mill Kings Queens School Main".split()
STREET_KINDS = {"Road": "Rd", "Street": "St", "Avenue": "Ave", "Lane": "Ln", "Close": "Cl"}
TOWNS = "Leeds Bristol Glasgow Cardiff Norwich York Derby Bath Hull Exeter Leicester".split()


@dataclass(frozen=True)
class ErrorRates:
    """How often each kind of corruption hits a duplicate copy."""

    typo_family: float = 0.2
    typo_given: float = 0.2
    nickname: float = 0.15
    swap_names: float = 0.05
    drop_field: float = 0.25
    reformat: float = 0.5
    typo_dob: float = 0.05
    swap_day_month: float = 0.03
    new_email: float = 0.05


def _family(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return rng.choice(FAMILY_COMMON)
    parts = rng.randint(2, 3)
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def _postcode(rng: random.Random) -> str:
    letters = string.ascii_uppercase
    return (
        f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(1, 29)} "
        f"{rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
    )


def original_record(rng: random.Random, n: int) -> dict[str, Any]:
    """One made-up person as a CRM holds them (some fields empty)."""
    given, family = rng.choice(GIVEN), _family(rng)
    kind = rng.choice(list(STREET_KINDS))
    record: dict[str, Any] = {
        "given_name": given,
        "family_name": family,
        "email": (
            f"{given}.{family}{rng.randint(1, 999)}@{rng.choice(['example.org', 'mail.test'])}"
            if rng.random() < 0.7
            else None
        ),
        "phone": f"+447{rng.randint(100000000, 999999999)}" if rng.random() < 0.6 else None,
        "date_of_birth": (date(1930, 1, 1) + timedelta(days=rng.randint(0, 30000)))
        if rng.random() < 0.75
        else None,
        "street": f"{rng.randint(1, 250)} {rng.choice(STREETS)} {kind}",
        "postcode": _postcode(rng),
        "locality": rng.choice(TOWNS),
        "identifier": f"{rng.randint(100000000, 999999999)}" if rng.random() < 0.3 else None,
        "external_ref": f"SRC-{n}",
    }
    if record["email"]:
        record["email"] = record["email"].lower()
    return record


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randint(1, len(text) - 2)
    move = rng.choice(["insert", "delete", "substitute", "transpose"])
    letter = rng.choice(string.ascii_lowercase)
    if move == "insert":
        return text[:i] + letter + text[i:]
    if move == "delete":
        return text[:i] + text[i + 1 :]
    if move == "substitute":
        return text[:i] + letter + text[i + 1 :]
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _dob_typo(rng: random.Random, dob: date) -> date:
    for _ in range(10):
        digits = list(dob.strftime("%Y%m%d"))
        i = rng.randint(2, 7)
        digits[i] = rng.choice("0123456789")
        try:
            text = "".join(digits)
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            continue
    return dob + timedelta(days=1)


def _phone_format(rng: random.Random, phone: str) -> str:
    national = "0" + phone[3:]
    return rng.choice(
        [
            f"{national[:5]} {national[5:]}",
            f"+44 {phone[3:7]} {phone[7:]}",
            f"0044{phone[3:]}",
            f"({national[:5]}) {national[5:8]}-{national[8:]}",
        ]
    )


def _corrupt(rng: random.Random, base: dict[str, Any], rates: ErrorRates) -> dict[str, Any]:
    copy = dict(base)
    if rng.random() < rates.nickname and copy["given_name"] in NICKNAMES:
        copy["given_name"] = NICKNAMES[copy["given_name"]]
    if rng.random() < rates.typo_given:
        copy["given_name"] = _typo(rng, copy["given_name"])
    if rng.random() < rates.typo_family:
        copy["family_name"] = _typo(rng, copy["family_name"])
    if rng.random() < rates.swap_names:
        copy["given_name"], copy["family_name"] = copy["family_name"], copy["given_name"]
    dob: date | None = copy["date_of_birth"]
    if dob is not None:
        if rng.random() < rates.swap_day_month and dob.day <= 12 and dob.day != dob.month:
            dob = date(dob.year, dob.day, dob.month)
        elif rng.random() < rates.typo_dob:
            dob = _dob_typo(rng, dob)
        copy["date_of_birth"] = (
            rng.choice([dob.strftime("%d/%m/%Y"), dob.isoformat(), dob.strftime("%Y%m%d")])
            if rng.random() < rates.reformat
            else dob
        )
    if copy["email"] and rng.random() < rates.new_email:
        copy["email"] = f"{copy['given_name']}{rng.randint(1, 99)}@newmail.test".lower()
    elif copy["email"] and rng.random() < rates.reformat:
        copy["email"] = copy["email"].upper()
    if copy["phone"] and rng.random() < rates.reformat:
        copy["phone"] = _phone_format(rng, copy["phone"])
    if rng.random() < rates.reformat:
        copy["postcode"] = rng.choice([copy["postcode"].replace(" ", ""), copy["postcode"].lower()])
    if rng.random() < rates.reformat:
        for long, short in STREET_KINDS.items():
            copy["street"] = copy["street"].replace(long, short)
    droppable = ["email", "phone", "date_of_birth", "postcode", "street", "identifier"]
    dropped = 0
    for field in rng.sample(droppable, k=len(droppable)):
        if dropped < 2 and copy.get(field) and rng.random() < rates.drop_field:
            copy[field] = None
            dropped += 1
    return copy


def relative_of(rng: random.Random, original: dict[str, Any], n: int) -> dict[str, Any]:
    """Someone of the same household as `original`: surname, address and landline shared,
    another given name, an older or younger date of birth, no email of their own."""
    relative = dict(original)
    relative["entity"] = f"{n}-relative"
    relative["external_ref"] = f"SRC-{n}-rel"
    relative["given_name"] = rng.choice([g for g in GIVEN if g != original["given_name"]])
    relative["email"] = None
    relative["identifier"] = None
    if original["date_of_birth"] is not None:
        relative["date_of_birth"] = original["date_of_birth"] + timedelta(
            days=rng.randint(400, 12000)
        )
    return relative


def labelled_records(
    n_originals: int,
    *,
    seed: int = 1,
    duplicate_share: float = 0.4,
    max_copies: int = 3,
    household_share: float = 0.15,
    rates: ErrorRates = ErrorRates(),
) -> list[dict[str, Any]]:
    """Originals, their corrupted copies and household members, shuffled; `entity` is truth."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for n in range(n_originals):
        original = original_record(rng, n)
        original["entity"] = n
        records.append(original)
        if rng.random() < duplicate_share:
            for c in range(rng.randint(1, max_copies)):
                copy = _corrupt(rng, original, rates)
                copy["external_ref"] = f"SRC-{n}-{c + 1}"
                records.append(copy)
        if rng.random() < household_share:
            records.append(relative_of(rng, original, n))
    rng.shuffle(records)
    for i, record in enumerate(records):
        record["id"] = i + 1
    return records


def true_pairs(records: Iterable[dict[str, Any]]) -> set[tuple[int, int]]:
    """Index pairs (i < j) of records that are the same person."""
    by_entity: dict[object, list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        by_entity[record["entity"]].append(i)
    pairs = set()
    for members in by_entity.values():
        for x, a in enumerate(members):
            for b in members[x + 1 :]:
                pairs.add((a, b))
    return pairs


@dataclass(frozen=True)
class Quality:
    """Pairwise precision, recall and F1."""

    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int


def quality(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> Quality:
    """Compare found pairs with the truth."""
    tp = len(found & truth)
    fp = len(found - truth)
    fn = len(truth - found)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Quality(precision, recall, f1, tp, fp, fn)
