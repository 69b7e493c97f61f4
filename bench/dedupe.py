"""Duplicate matching: quality on labelled sets and time on a large table.

python -m bench.dedupe --originals 60000      # about 100k records
"""

import argparse
import time

from db.demo.duplicate_data import labelled_records, quality, true_pairs
from db.duplicates.matching import DEFAULT_MIN_SCORE, find_matches


def main() -> None:
    """Generate a labelled set, match it, print quality and time."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--originals", type=int, default=60000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    records = labelled_records(args.originals, seed=args.seed)
    truth = true_pairs(records)
    started, cpu = time.perf_counter(), time.process_time()
    matches = find_matches(records, min_score=args.min_score, workers=args.workers)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    found = {(min(m.left, m.right), max(m.left, m.right)) for m in matches}
    q = quality(found, truth)
    print(  # noqa: T201  (a command-line report)
        f"{len(records):,} records, {len(truth):,} true pairs: "
        f"matched in {elapsed:.1f} s ({cpu:.1f} s CPU); "
        f"precision {q.precision:.4f}, recall {q.recall:.4f}, F1 {q.f1:.4f} "
        f"at min score {args.min_score} with {args.workers} worker(s)"
    )


if __name__ == "__main__":
    main()
