"""The start-of-year mailing (TX § 25.095(a)): one letter per family for a whole district.

Usage: python bench/family_notice_bench.py [--students 2000] [--sibling-share 0.4] [--base DIR]

A store is made in ``--base`` (a temporary folder by default) with the students enrolled and
synthetic guardians (``--sibling-share`` of the students share a parent with the student before
them), so what is timed is the daemon's own work: grouping into families and generating the
letters (``schedule``: each letter's HTML rendered and checked, its facts frozen), then printing
them (``deliver``: the PDFs, in files of 250 letters, and the manifest). Prints the letters, pages,
seconds of each step and the peak RSS.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, insert

from truancy.daemon.family_notices import FamilyNoticeCycle
from truancy.daemon.notices_settings import NoticeSettings
from truancy.daemon.schema import enrollments, students
from truancy.daemon.store import upgrade
from truancy.documents.catalogs import load_catalogs
from truancy.documents.letters import District
from truancy.mappings.notices import load_notices
from truancy.mappings.notices_contacts import GuardianContact

TODAY = date(2026, 8, 20)


def _contacts(count: int, sibling_share: float, seed: int) -> dict[str, list[GuardianContact]]:
    rng = random.Random(seed)
    found: dict[str, list[GuardianContact]] = {}
    household = 0
    for number in range(count):
        if number == 0 or rng.random() >= sibling_share:
            household = number
        student = f"s{number:06d}"
        found[student] = [
            GuardianContact(
                student,
                f"g{household}-{parent}",
                f"Parent{parent} Family{household}",
                "Mother",
                True,
                "",
                (f"{100 + household} Oak Avenue", "Springfield, TX 75000"),
                "",
                "",
                "en",
                f"Child{number} Family{household}",
                f"School {number % 8}",
            )
            for parent in range(1 + household % 2)
        ]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--sibling-share", type=float, default=0.4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--base", type=Path, default=None)
    args = parser.parse_args()
    base = args.base or Path(tempfile.mkdtemp(prefix="family-bench-"))
    engine = create_engine(f"sqlite:///{base / 'store.db'}")
    upgrade(engine)
    contacts = _contacts(args.students, args.sibling_share, args.seed)
    with engine.begin() as connection:
        connection.execute(
            insert(students),
            [{"student_id": s, "sis_ref": s, "school_id": f"{int(s[1:]) % 8}", "deleted": False,
              "seen_cycle": 1} for s in contacts],
        )  # fmt: skip
        connection.execute(
            insert(enrollments),
            [{"source_id": f"e-{s}", "student_id": s, "school_id": "1", "begin_date": date(2026, 8, 17),
              "end_date": None, "seen_cycle": 1} for s in contacts],
        )  # fmt: skip

    def source(ids: Iterable[str]) -> Iterator[GuardianContact]:
        for student in ids:
            yield from contacts[student]

    cycle = FamilyNoticeCycle(
        engine,
        load_notices("TX").by_enrollment(),
        NoticeSettings(approval="auto", contact_phone="(555) 010-0199"),
        district=District("Bench ISD", ("1 Main Street", "Springfield, TX 75000"), "(555) 010-0100"),
        catalogs=load_catalogs(),
        template_dirs=[],
        output_dir=base / "letters",
        contacts=source,
    )
    started = time.perf_counter()
    letters = cycle.schedule(TODAY)
    generated = time.perf_counter()
    printed = cycle.deliver(TODAY)
    done = time.perf_counter()
    files = sorted((base / "letters").glob("*-print-*.pdf"))
    manifests = [f.with_suffix(".csv").read_text().splitlines()[1:] for f in files]
    pages = sum(int(line.split(",")[3]) for lines in manifests for line in lines)
    megabytes = sum(f.stat().st_size for f in files) / 1e6
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds = done - generated
    print(f"{args.students} students: {letters} family letters generated in {generated - started:.1f} s")
    print(f"printed {printed} letters (a cycle prints 1,000 at most), {pages} pages, {len(files)} files")
    print(f"  ({megabytes:.1f} MB)")
    print(f"  in {seconds:.1f} s: {seconds / max(printed, 1):.2f} s a letter; peak RSS {rss:.0f} MB")
    print(f"store and files in {base}")


if __name__ == "__main__":
    main()
