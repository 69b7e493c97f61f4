"""Duplicate matching: quality on labelled sets and time on a large table.

python -m bench.dedupe --originals 60000              # about 100k records, timed
python -m bench.dedupe --set corruptions --held-out   # quality per kind of corruption

`--set generated` is the matcher's own test set (its nickname table included);
`--set corruptions` corrupts copies in ways the matcher was not written for
(bench/corruptions.py), on the development seed unless `--held-out` is given.
"""

import argparse
import time

from bench.corruptions import DEVELOPMENT_SEED, HELD_OUT_SEED, corrupted_records, quality_by_kind
from db.demo.duplicate_data import labelled_records, quality, true_pairs
from db.duplicates.matching import DEFAULT_MIN_SCORE, find_matches


def main() -> None:
    """Generate a labelled set, match it, print quality and time."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--originals", type=int, default=60000)
    parser.add_argument("--set", choices=("generated", "corruptions"), default="generated")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--held-out", action="store_true", help="the seed never tuned on")
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.set == "corruptions":
        seed = HELD_OUT_SEED if args.held_out else args.seed or DEVELOPMENT_SEED
        records = corrupted_records(args.originals, seed=seed)
    else:
        seed = args.seed or 11
        records = labelled_records(args.originals, seed=seed)
    started, cpu = time.perf_counter(), time.process_time()
    matches = find_matches(records, min_score=args.min_score, workers=args.workers)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    found = {(min(m.left, m.right), max(m.left, m.right)) for m in matches}
    if args.set == "corruptions":
        report = quality_by_kind(records, found)
    else:
        report = {"all": quality(found, true_pairs(records))}
    q = report["all"]
    print(  # noqa: T201  (a command-line report)
        f"{len(records):,} records ({args.set}, seed {seed}), "
        f"{q.true_positives + q.false_negatives:,} true pairs: "
        f"matched in {elapsed:.1f} s ({cpu:.1f} s CPU); "
        f"precision {q.precision:.4f}, recall {q.recall:.4f}, F1 {q.f1:.4f} "
        f"at min score {args.min_score} with {args.workers} worker(s)"
    )
    for kind, kq in report.items():
        if kind != "all":
            print(  # noqa: T201
                f"  {kind:<14} {kq.true_positives + kq.false_negatives:>7,} pairs, "
                f"recall {kq.recall:.4f}"
            )


if __name__ == "__main__":
    main()
