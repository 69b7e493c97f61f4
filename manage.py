"""Rapport's operator commands: python manage.py COMMAND --help."""

import argparse
import getpass
import secrets
import sys
from pathlib import Path

SECRETS_FILE = Path(__file__).resolve().parent / ".streamlit" / "secrets.toml"


def cmd_migrate(_args: argparse.Namespace) -> int:
    """Apply every pending migration."""
    from db.core.engine import get_engine
    from db.core.migrate import current_heads, upgrade

    engine = get_engine()
    upgrade(engine)
    print(f"Database is at revision {', '.join(sorted(current_heads(engine)))}.")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    """Fill an empty database with the demo world (or, with --scale, the benchmark world)."""
    import time

    from db.core.engine import session_scope
    from db.core.settings import get_settings
    from db.demo.bulk.seed import seed_scale
    from db.demo.fixtures import is_empty, seed_demo

    if not get_settings().demo:
        # A production installation: the demo world's sign-ins are published, so it is
        # never created here, whatever the database holds.
        message = "RAPPORT_DEMO=0: this installation never seeds the demo; not seeding."
        if args.if_empty:
            print(message)
            return 0
        print(message, file=sys.stderr)
        return 1
    with session_scope() as session:
        if not is_empty(session=session):
            if args.if_empty:
                print("Database already has data; not seeding.")
                return 0
            print("Database already has data; seed only an empty database.", file=sys.stderr)
            return 1
        started = time.monotonic()
        if args.scale is None:
            counts = seed_demo(session=session, seed=args.seed)
        else:
            counts = seed_scale(session=session, scale=args.scale, seed=args.seed)
    took = time.monotonic() - started
    print(
        "Seeded: " + ", ".join(f"{n:,} {what}" for what, n in counts.items()) + f" in {took:.1f} s"
    )
    return 0


def cmd_demo_info(_args: argparse.Namespace) -> int:
    """Print the demo sign-ins that still work, but only for a database seeded with the demo."""
    from db.core.engine import session_scope
    from db.demo.fixtures import DEMO_USERS, demo_password_accounts, is_demo

    with session_scope() as session:
        if not is_demo(session=session):
            return 0
        working = set(demo_password_accounts(session=session))
    shown = [user for user in DEMO_USERS if user.username in working]
    if not shown:
        return 0
    print("\nDemo sign-ins (demo database only; anyone who reads the README can use them):")
    for user in shown:
        roles = ", ".join(r.value for r in user.roles)
        print(f"  {user.username:<10} {user.password:<24} {roles}")
    print("Change their passwords or deactivate them before real use.\n")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create a user; the password is read from standard input."""
    from db.auth.accounts import create_user
    from db.auth.actor import OPERATOR
    from db.core.engine import session_scope
    from db.core.errors import DomainError
    from db.models.auth import Role, UserCreate

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            print("The passwords differ; nothing was created.", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        roles = [Role(r) for r in args.role]
    except ValueError:
        print(f"--role: choose from {', '.join(r.value for r in Role)}.", file=sys.stderr)
        return 2
    with session_scope() as session:
        try:
            user = create_user(
                session=session,
                user_in=UserCreate(
                    username=args.username,
                    display_name=args.name or args.username,
                    email=args.email or f"{args.username}@localhost.localdomain",
                    team=args.team,
                    password=password,
                    roles=roles,
                ),
                actor=OPERATOR,
            )
        except DomainError as err:
            print(err, file=sys.stderr)
            return 1
    print(f"Created {user.username} with roles {', '.join(r.value for r in sorted(user.roles))}.")
    return 0


def cmd_verify_audit(_args: argparse.Namespace) -> int:
    """Walk the audit chain; exit 1 naming the first broken event."""
    from db.auth.audit import verify_chain
    from db.core.engine import session_scope

    with session_scope() as session:
        report = verify_chain(session=session)
    if report.ok:
        print(f"Audit chain intact: {report.checked} events verified.")
        return 0
    print(f"Audit chain BROKEN at event {report.first_bad_seq}: {report.reason}.", file=sys.stderr)
    return 1


def cmd_unlock(args: argparse.Namespace) -> int:
    """Lift a sign-in lockout."""
    from db.auth.accounts import get_user_by_username, unlock_user
    from db.auth.actor import OPERATOR
    from db.core.engine import session_scope

    with session_scope() as session:
        user = get_user_by_username(session=session, username=args.username)
        if user is None or user.id is None:
            print(f"There is no user {args.username!r}.", file=sys.stderr)
            return 1
        unlock_user(session=session, user_id=user.id, actor=OPERATOR)
    print(f"Unlocked {args.username}.")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Back up the live database (SQLite backup API, or a logical export for PostgreSQL)."""
    from db.core.backup import backup
    from db.core.engine import get_engine
    from db.core.errors import DomainError

    try:
        counts = backup(get_engine(), Path(args.path))
    except DomainError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"Backed up {sum(counts.values()):,} rows in {len(counts)} tables to {args.path}.")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup into an empty database, then verify the audit chain."""
    from db.auth.audit import verify_chain
    from db.core.backup import restore
    from db.core.engine import get_engine, session_scope
    from db.core.errors import DomainError
    from db.core.migrate import upgrade

    engine = get_engine()
    try:
        if not Path(args.path).read_bytes()[:16].startswith(b"SQLite format 3"):
            upgrade(engine)
        counts = restore(engine, Path(args.path))
    except DomainError as err:
        print(err, file=sys.stderr)
        return 1
    with session_scope(engine) as session:
        report = verify_chain(session=session)
    print(
        f"Restored {sum(counts.values()):,} rows; audit chain "
        f"{'intact' if report.ok else 'BROKEN: ' + report.reason}."
    )
    return 0 if report.ok else 1


def cmd_purge_cases(args: argparse.Namespace) -> int:
    """Erase the content of cases closed longer than the retention period, keeping tombstones."""
    from db.auth.actor import OPERATOR
    from db.cases.retention import purge_cases
    from db.core.engine import session_scope

    with session_scope() as session:
        report = purge_cases(session=session, actor=OPERATOR, years=args.years)
    print(
        f"Erased the content of {report.purged} case{'s' if report.purged != 1 else ''} "
        f"closed before {report.cutoff:%Y-%m-%d}; their tombstones remain."
    )
    return 0


def cmd_forget_public_limits(_args: argparse.Namespace) -> int:
    """Delete the public forms' rate-limit counters of past hours and minutes (run it hourly)."""
    from db.core.engine import session_scope
    from db.core.limits import forget_expired

    with session_scope() as session:
        gone = forget_expired(session=session)
    print(f"Deleted {gone} expired rate-limit counter{'s' if gone != 1 else ''}.")
    return 0


def cmd_case_deadlines(args: argparse.Namespace) -> int:
    """Set how many days to acknowledge and months to give feedback, for one category."""
    from db.auth.actor import OPERATOR
    from db.cases.common import set_category_deadlines
    from db.core.engine import session_scope
    from db.core.errors import DomainError

    with session_scope() as session:
        try:
            category = set_category_deadlines(
                session=session,
                actor=OPERATOR,
                key=args.category,
                ack_days=args.ack_days,
                feedback_months=args.feedback_months,
            )
        except DomainError as err:
            print(err, file=sys.stderr)
            return 1
    print(
        f"{category.label}: acknowledge within {category.ack_days} days, feedback within "
        f"{category.feedback_months} months."
    )
    return 0


def cmd_ensure_secrets(_args: argparse.Namespace) -> int:
    """Write a random cookie key into .streamlit/secrets.toml unless one exists."""
    from db.core.settings import get_settings

    if get_settings().cookie_key:
        return 0
    if SECRETS_FILE.exists() and "cookie_key" in SECRETS_FILE.read_text(encoding="utf-8"):
        return 0
    SECRETS_FILE.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    with SECRETS_FILE.open("a", encoding="utf-8") as handle:
        handle.write(f'# Generated by manage.py; never commit this file.\ncookie_key = "{key}"\n')
    SECRETS_FILE.chmod(0o600)
    print(f"Generated a cookie key in {SECRETS_FILE.relative_to(Path.cwd())}.")
    return 0


def cmd_import_employees(args: argparse.Namespace) -> int:
    """Import employees from a CSV file; refused rows are listed with the reason."""
    from db.auth.actor import OPERATOR
    from db.core.engine import session_scope
    from db.core.errors import DomainError
    from db.surveys.employees import import_employees_csv

    text = Path(args.path).read_text(encoding="utf-8")
    with session_scope() as session:
        try:
            report = import_employees_csv(session=session, text=text, actor=OPERATOR)
        except DomainError as err:
            print(err, file=sys.stderr)
            return 1
    print(f"Added {report.created} employees.")
    for bad in report.bad_rows:
        print(f"  line {bad['line']}: {bad['reason']}", file=sys.stderr)
    return 1 if report.bad_rows else 0


def cmd_survey_links(args: argparse.Namespace) -> int:
    """Issue fresh links for everyone who has not answered a survey; CSV on standard output."""
    from db.auth.actor import OPERATOR
    from db.core.engine import session_scope
    from db.core.errors import DomainError
    from db.surveys.distribution import describe_send, issue_links, links_csv, send_round

    with session_scope() as session:
        try:
            if args.email:
                report = send_round(
                    session=session, survey_id=args.survey, actor=OPERATOR, reminder=args.reminder
                )
                print(describe_send(report))
                for address in report.addresses:
                    print(f"  not sent (needs SMTPUTF8): {address}", file=sys.stderr)
            else:
                sys.stdout.write(
                    links_csv(issue_links(session=session, survey_id=args.survey, actor=OPERATOR))
                )
        except DomainError as err:
            print(err, file=sys.stderr)
            return 1
    return 0


def cmd_survey_report(args: argparse.Namespace) -> int:
    """Write each group's leader PDF of a survey (or one group's) into a folder."""
    from pathlib import Path

    from db.auth.actor import OPERATOR
    from db.core.engine import session_scope
    from db.core.errors import DomainError
    from db.surveys.builder import get_survey
    from db.surveys.leader_report import leader_pdf, pdf_file_name
    from db.surveys.reports import groups

    folder = Path(args.out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with session_scope() as session:
        try:
            survey = get_survey(session=session, survey_id=args.survey)
            found = groups(session=session, survey_id=args.survey, actor=OPERATOR)
            wanted = [g for g in found if args.group in (None, g.key)]
            if not wanted:
                keys = ", ".join(g.key for g in found)
                print(
                    f"--group: survey {args.survey} has no group {args.group!r}; it has {keys}.",
                    file=sys.stderr,
                )
                return 2
            written: set[Path] = set()
            for group in wanted:
                path = folder / pdf_file_name(survey.title, group.label)
                if path in written:  # two teams of one name in different departments
                    path = path.with_stem(f"{path.stem}-{len(written) + 1}")
                written.add(path)
                path.write_bytes(
                    leader_pdf(
                        session=session,
                        survey_id=args.survey,
                        group_key=group.key,
                        actor=OPERATOR,
                    )
                )
                told = "results" if group.shown else f"withheld: {group.reason}"
                print(f"{path}  ({group.label}; {told})")
        except DomainError as err:
            print(err, file=sys.stderr)
            return 1
    return 0


def cmd_make_migration(args: argparse.Namespace) -> int:
    """Autogenerate a migration from the models (developers)."""
    from db.core.engine import get_engine
    from db.core.migrate import make_revision

    make_revision(get_engine(), args.message)
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import organisations, contacts, interactions, deals or employees (CSV or XLSX)."""
    from db.auth.actor import OPERATOR
    from db.core.engine import session_scope
    from db.core.errors import DomainError
    from db.imports.batches import rejected_rows_csv, run_import
    from db.imports.files import parse_map

    path = Path(args.file)
    if not path.is_file():
        print(f"There is no file {path}.", file=sys.stderr)
        return 1
    with session_scope() as session:
        try:
            result = run_import(
                session=session,
                actor=OPERATOR,
                kind=args.kind,
                data=path.read_bytes(),
                filename=path.name,
                source_format=args.format,
                mapping=parse_map(args.map or []),
                update_by=args.update_by,
                dry_run=args.dry_run,
                all_or_nothing=args.all_or_nothing,
            )
        except DomainError as err:
            print(err, file=sys.stderr)
            return 1
    mapped = ", ".join(f"{'+'.join(src)} -> {dst}" for dst, src in result.mapping.items())
    print(f"Format: {result.source_format}. Columns: {mapped}.")
    print(result.summary())
    for problem in result.rejected:
        print(f"  row {problem.row}, {problem.column}: {problem.reason}", file=sys.stderr)
    for problem in result.warnings:
        print(f"  row {problem.row}, {problem.column} (dropped): {problem.reason}")
    if args.rejects and result.rejected:
        Path(args.rejects).write_bytes(rejected_rows_csv(result))
        print(f"Rejected rows written to {args.rejects}.")
    if result.batch_id:
        print(f"Batch {result.batch_id}; revert it from the Import page if needed.")
    return 1 if result.rejected and not result.saved and not result.dry_run else 0


def cmd_export(args: argparse.Namespace) -> int:
    """Export organisations, contacts or deals as CSV or XLSX (the columns import reads back)."""
    from db.auth.actor import OPERATOR
    from db.core.engine import session_scope
    from db.core.errors import DomainError
    from db.imports.export import export_file, export_format

    try:
        fmt = export_format(args.out, args.format)
        with session_scope() as session:
            data = export_file(session=session, actor=OPERATOR, kind=args.kind, fmt=fmt)
    except DomainError as err:
        print(err, file=sys.stderr)
        return 1
    Path(args.out).write_bytes(data)
    print(f"Wrote {args.kind} to {args.out} ({fmt.upper()}).")
    return 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    """Write likely duplicate contacts (or organisations) to a CSV, best first."""
    from db.auth.actor import OPERATOR
    from db.core.engine import session_scope
    from db.duplicates.report import find_duplicate_organisations, find_duplicate_pairs, pairs_csv

    if not 0 <= args.min_score <= 1:
        print("--min-score: give a number between 0 and 1.", file=sys.stderr)
        return 2
    with session_scope() as session:
        if args.kind == "organizations":
            pairs = find_duplicate_organisations(
                session=session, actor=OPERATOR, min_score=args.min_score
            )
        else:
            # The command line runs in its own process, so it may fork scoring workers.
            pairs = find_duplicate_pairs(
                session=session, actor=OPERATOR, min_score=args.min_score, workers=args.workers
            )
    Path(args.out).write_text(pairs_csv(pairs), encoding="utf-8")
    print(f"Wrote {len(pairs)} likely duplicate pairs to {args.out}.")
    return 0


def cmd_consent_audit(args: argparse.Namespace) -> int:
    """Write the consent audit for a period to FILE.json or FILE.csv."""
    import json
    from datetime import date

    from db.auth.actor import OPERATOR
    from db.consent.audit.report import CSV_COLUMNS, report_csv_rows, run_audit
    from db.core.engine import session_scope
    from db.core.errors import DomainError
    from db.core.spreadsheets import records_csv

    out = Path(args.out)
    if out.suffix.lower() not in {".json", ".csv"}:
        print("--out: name a .json or .csv file.", file=sys.stderr)
        return 2
    try:
        since = date.fromisoformat(args.since) if args.since else None
        until = date.fromisoformat(args.until) if args.until else None
    except ValueError:
        print("--since/--until: use dates like 2026-01-31.", file=sys.stderr)
        return 2
    with session_scope() as session:
        try:
            report = run_audit(
                session=session,
                actor=OPERATOR,
                since=since,
                until=until,
                full_chain=args.full,
            )
        except DomainError as err:
            print(err, file=sys.stderr)
            return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".json":
        out.write_text(json.dumps(report.as_dict(), indent=2, default=str), encoding="utf-8")
    else:
        out.write_bytes(records_csv(report_csv_rows(report), columns=CSV_COLUMNS).encode("utf-8"))
    for finding in report.findings:
        print(f"{finding.number}. {finding.title}: {finding.count} ({finding.severity})")
    for row in report.findings[-1].rows:
        state = "intact" if row["intact"] else f"BROKEN: {row['problem']}"
        print(f"   {row['chain']}: {state}; checked {row['check']}")
    print(f"Wrote {out}.")
    return 0


def cmd_import_consent(args: argparse.Namespace) -> int:
    """Import consent history from a CSV file; bad rows are listed with their reason."""
    from db.auth.actor import OPERATOR
    from db.consent.csv_import import import_consent
    from db.core.engine import session_scope

    text = Path(args.file).read_text(encoding="utf-8")
    with session_scope() as session:
        report = import_consent(session=session, text=text, actor=OPERATOR, dry_run=args.dry_run)
    for bad in report.bad:
        print(f"row {bad.row}, {bad.column}: {bad.reason}", file=sys.stderr)
    verb = "Would import" if report.dry_run else "Imported"
    print(f"{verb} {report.imported} consent events; {len(report.bad)} rows refused.")
    return 1 if report.bad else 0


def cmd_consent_receipt(args: argparse.Namespace) -> int:
    """Write one Kantara consent receipt (JSON) per grant into DIR."""
    import json

    from db.auth.actor import OPERATOR
    from db.consent.receipts import receipts
    from db.core.engine import session_scope
    from db.core.errors import DomainError

    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    with session_scope() as session:
        try:
            for name, receipt in receipts(session=session, actor=OPERATOR, contact_id=args.contact):
                (folder / name).write_text(json.dumps(receipt, indent=2), encoding="utf-8")
                written += 1
        except DomainError as err:
            print(err, file=sys.stderr)
            return 1
    print(f"Wrote {written} receipts to {folder}.")
    return 0


def cmd_api_token(args: argparse.Namespace) -> int:
    """Create, list or revoke the HTTP API's tokens (a token acts as its user)."""
    from db.auth.actor import OPERATOR
    from db.core.engine import session_scope
    from db.core.errors import DomainError
    from db.integrations.api_tokens import create_token, list_tokens, revoke_token

    with session_scope() as session:
        try:
            if args.action == "create":
                made = create_token(
                    session=session,
                    name=args.name,
                    username=args.user,
                    days=args.days,
                    actor=OPERATOR,
                )
                print(
                    f"Token {made.token.name!r} for {args.user.strip().lower()}, valid until "
                    f"{made.token.expires_at:%Y-%m-%d %H:%M} UTC. It is shown only now: "
                    "keep it secret, like a password."
                )
                print(made.secret)
            elif args.action == "list":
                for row in list_tokens(session=session, actor=OPERATOR):
                    used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
                    print(
                        f"{row.name}\t{row.username}\t{row.prefix}…\t{row.status}\t"
                        f"expires {row.expires_at:%Y-%m-%d}\tlast used {used}"
                    )
            else:
                token = revoke_token(session=session, name=args.name, actor=OPERATOR)
                print(f"Revoked {token.name!r}; calls with it are refused from now on.")
        except DomainError as err:
            print(err, file=sys.stderr)
            return 1
    return 0


def add_api_token_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """manage.py api-token create NAME --user USERNAME [--days N] | list | revoke NAME."""
    tokens = sub.add_parser("api-token", help=cmd_api_token.__doc__)
    actions = tokens.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a token; it is printed once, last")
    create.add_argument("name", help="what the token is for, e.g. 'phone system'")
    create.add_argument("--user", required=True, help="the user the token acts as")
    create.add_argument("--days", type=int, default=None, help="how long it lasts")
    actions.add_parser("list", help="every token, with its user and status (no secrets)")
    revoke = actions.add_parser("revoke", help="stop a token working at once")
    revoke.add_argument("name")
    tokens.set_defaults(func=cmd_api_token)


def cmd_mail_sync(args: argparse.Namespace) -> int:
    """Fetch new mail from every connected mailbox onto the contacts' timelines."""
    import logging
    import signal
    import time

    from db.core.engine import session_scope
    from db.integrations.mail_sync import sync_all
    from db.integrations.mailboxes import worker_name

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    log = logging.getLogger("rapport.mail")
    worker = worker_name()
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    if args.every is not None and args.every <= 0:
        print("--every: give a number of seconds above 0.", file=sys.stderr)
        return 2
    failed = False
    while True:
        try:
            with session_scope() as session:
                results = sync_all(session=session, worker=worker)
            for result in results:
                log.info("%s", result.summary())
            failed = any(r.status == "failed" for r in results)
            if not results:
                log.info("No mailbox is connected and enabled.")
        except Exception:  # noqa: BLE001  (the database gone, say: the loop goes on)
            log.exception("The mail sync pass failed; trying again at the next one.")
            failed = True
        if args.every is None:
            return 1 if failed else 0
        deadline = time.monotonic() + args.every
        try:
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        except KeyboardInterrupt:
            stopping = True
        if stopping:
            log.info("Stopped.")
            return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Send webhooks and notification emails and scan deadlines: one pass, or every N s."""
    import logging

    from db.integrations.worker import JOBS, run_forever, run_once

    # A pass prints its summary; the loop logs each job's line with the time.
    logging.basicConfig(
        level=logging.WARNING if args.every is None else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if args.every is None:
        outcomes = run_once()
        for outcome in outcomes:
            print(f"{outcome.job}: {outcome.state}: {outcome.line}")
        return 1 if any(o.state == "failed" for o in outcomes) else 0
    if args.every <= 0:
        print("--every: give a number of seconds above 0.", file=sys.stderr)
        return 2
    print(
        f"Worker running {', '.join(j.name for j in JOBS)} every {args.every:g} s "
        "(Ctrl-C stops it).",
        flush=True,
    )
    try:
        run_forever(every=args.every)
    except KeyboardInterrupt:
        print("Worker stopped.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="manage.py", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help=cmd_migrate.__doc__).set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help=cmd_seed.__doc__)
    seed.add_argument(
        "--scale",
        type=float,
        help="benchmark world of this size with bulk inserts (1 = 10k contacts); "
        "without it, the small demo world built through the normal commands",
    )
    seed.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    seed.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing if any user exists, or if RAPPORT_DEMO=0 (exit 0 either way)",
    )
    seed.set_defaults(func=cmd_seed)

    sub.add_parser("demo-info", help=cmd_demo_info.__doc__).set_defaults(func=cmd_demo_info)

    create = sub.add_parser("create-user", help=cmd_create_user.__doc__)
    create.add_argument("username")
    create.add_argument("--role", action="append", required=True, help="repeat for several")
    create.add_argument("--name", help="display name (default: the username)")
    create.add_argument("--email")
    create.add_argument("--team")
    create.set_defaults(func=cmd_create_user)

    sub.add_parser("verify-audit", help=cmd_verify_audit.__doc__).set_defaults(
        func=cmd_verify_audit
    )
    unlock = sub.add_parser("unlock", help=cmd_unlock.__doc__)
    unlock.add_argument("username")
    unlock.set_defaults(func=cmd_unlock)

    backup = sub.add_parser("backup", help=cmd_backup.__doc__)
    backup.add_argument("path")
    backup.set_defaults(func=cmd_backup)
    restore = sub.add_parser("restore", help=cmd_restore.__doc__)
    restore.add_argument("path")
    restore.set_defaults(func=cmd_restore)
    purge = sub.add_parser("purge-cases", help=cmd_purge_cases.__doc__)
    purge.add_argument(
        "--years",
        type=int,
        default=None,
        help="retention in years (default: RAPPORT_CASE_RETENTION_YEARS, or 5)",
    )
    purge.set_defaults(func=cmd_purge_cases)

    sub.add_parser("forget-public-limits", help=cmd_forget_public_limits.__doc__).set_defaults(
        func=cmd_forget_public_limits
    )

    deadlines = sub.add_parser("case-deadlines", help=cmd_case_deadlines.__doc__)
    deadlines.add_argument("category", help="category key, for example safeguarding")
    deadlines.add_argument("--ack-days", type=int, default=7)
    deadlines.add_argument("--feedback-months", type=int, default=3)
    deadlines.set_defaults(func=cmd_case_deadlines)

    sub.add_parser("ensure-secrets", help=cmd_ensure_secrets.__doc__).set_defaults(
        func=cmd_ensure_secrets
    )
    employees = sub.add_parser("import-employees", help=cmd_import_employees.__doc__)
    employees.add_argument("path", help="CSV file with a header row")
    employees.set_defaults(func=cmd_import_employees)

    links = sub.add_parser("survey-links", help=cmd_survey_links.__doc__)
    links.add_argument("survey", type=int, help="survey id")
    links.add_argument("--email", action="store_true", help="email them instead of printing CSV")
    links.add_argument("--reminder", action="store_true", help="word the email as a reminder")
    links.set_defaults(func=cmd_survey_links)
    report = sub.add_parser("survey-report", help=cmd_survey_report.__doc__)
    report.add_argument("survey", type=int, help="survey id (shown on the Surveys page)")
    report.add_argument("--out-dir", required=True, help="folder for the PDF files")
    report.add_argument("--group", help="only this group's key (default: every group)")
    report.set_defaults(func=cmd_survey_report)
    audit = sub.add_parser("consent-audit", help=cmd_consent_audit.__doc__)
    audit.add_argument("--out", required=True, help="FILE.json or FILE.csv")
    audit.add_argument("--since", help="first day, YYYY-MM-DD (default: a year before --until)")
    audit.add_argument("--until", help="last day, YYYY-MM-DD (default: today)")
    audit.add_argument(
        "--full",
        action="store_true",
        help="recompute the ledger chain from its first event, not from the last checkpoint",
    )
    audit.set_defaults(func=cmd_consent_audit)

    imp = sub.add_parser("import-consent", help=cmd_import_consent.__doc__)
    imp.add_argument("file")
    imp.add_argument("--dry-run", action="store_true", help="check only; write nothing")
    imp.set_defaults(func=cmd_import_consent)

    receipt = sub.add_parser("consent-receipt", help=cmd_consent_receipt.__doc__)
    who = receipt.add_mutually_exclusive_group(required=True)
    who.add_argument("--contact", type=int, help="one contact's id")
    who.add_argument("--all", action="store_true", help="every contact")
    receipt.add_argument("--out", required=True, help="folder for the JSON files")
    receipt.set_defaults(func=cmd_consent_receipt)

    mig = sub.add_parser("make-migration", help=cmd_make_migration.__doc__)
    mig.add_argument("message")
    mig.set_defaults(func=cmd_make_migration)

    from db.duplicates.matching import DEFAULT_MIN_SCORE
    from db.imports.kinds import ALL_KIND_NAMES

    imp = sub.add_parser("import", help=cmd_import.__doc__)
    imp.add_argument("kind", choices=ALL_KIND_NAMES)
    imp.add_argument("file")
    imp.add_argument(
        "--format", default="auto", choices=["auto", "hubspot", "salesforce", "rapport"]
    )
    imp.add_argument(
        "--map",
        action="append",
        metavar="SRC=DST",
        help="map a column to a field; repeat; several SRC for one DST are joined with a space",
    )
    imp.add_argument("--update-by", default="email", choices=["email", "external_ref", "none"])
    imp.add_argument("--dry-run", action="store_true", help="report what would happen only")
    imp.add_argument("--all-or-nothing", action="store_true", help="one bad row imports nothing")
    imp.add_argument("--rejects", help="write rejected rows to this CSV file")
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help=cmd_export.__doc__)
    exp.add_argument("kind", choices=["contacts", "organizations", "deals"])
    exp.add_argument("--out", required=True, help="a .csv or .xlsx file")
    exp.add_argument("--format", choices=["csv", "xlsx"], help="default: from --out's extension")
    exp.set_defaults(func=cmd_export)

    dup = sub.add_parser("duplicates", help=cmd_duplicates.__doc__)
    dup.add_argument("--out", required=True)
    dup.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE)
    dup.add_argument("--kind", choices=["contacts", "organizations"], default="contacts")
    dup.add_argument(
        "--workers", type=int, default=1, help="score in this many processes (idle cores only)"
    )
    dup.set_defaults(func=cmd_duplicates)
    add_api_token_parser(sub)

    mail = sub.add_parser("mail-sync", help=cmd_mail_sync.__doc__)
    mail.add_argument(
        "--every",
        type=float,
        metavar="SECONDS",
        help="keep running: a pass every SECONDS (a failing mailbox never stops the loop)",
    )
    mail.set_defaults(func=cmd_mail_sync)

    work = sub.add_parser("worker", help=cmd_worker.__doc__)
    work.add_argument(
        "--every", type=float, help="run a pass every N seconds until stopped (default: once)"
    )
    work.set_defaults(func=cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and run one command."""
    args = build_parser().parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
