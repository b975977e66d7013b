"""Simulation: does the nightly audit catch the 2020 pattern, and how often does
it alert an ordinary provider? (issue 13)

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/misuse_simulation.py [--per-kind 100] [--days 30]
        [--warm-up 10] [--seed 2020]

Creates a scratch database next to DATABASE_URL's and migrates it; makes
--per-kind ordinary providers of each of five kinds (further education
college, school sixth form, adult community learning, national apprenticeship
provider, university admissions; an enrolment peak in the first five working
days for the kinds that have one), a learner pool by postcode area and age, and
three misusers (a screening firm within its declared volume, a college that
starts searching for a third party part way, a ULN enumerator, one member of
an otherwise ordinary college who starts searching for a third party); writes
--warm-up working days of history (audited with the purpose rules off: the time
before them), then --days working days, each audited that night by the real
audit_usage job. It prints, per rule and overall, the nights from each
misuser's start to its first alert and the ordinary organisation-days alerted
(records/simulation.py has the population), and drops the database at the end.
"""

import argparse
import secrets
import time

from scratch import django_on_scratch_database  # bench/ is the script's folder


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-kind", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--warm-up", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--per-cell", type=int, default=40)
    parser.add_argument(
        "--database",
        default="",
        help="the scratch database's name (made, then dropped)",
    )
    return parser.parse_args()


def _run(arguments: argparse.Namespace) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from records.simulation import report, simulate

    began = time.perf_counter()
    result = simulate(
        ordinary_per_kind=arguments.per_kind,
        days=arguments.days,
        warm_up=arguments.warm_up,
        # The screening firm from the 6th working day, the reseller from the
        # 13th, the enumerator from the 21st, the staff member from the 17th.
        starts=(5, 12, 20, 16),
        seed=arguments.seed,
        per_cell=arguments.per_cell,
        say=lambda line: print(line, flush=True),
    )
    print(f"\n{time.perf_counter() - began:.0f} s\n")
    print("\n".join(report(result)))


def main() -> None:
    arguments = _arguments()
    env = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "LOG_LEVEL": "WARNING",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    with django_on_scratch_database(
        kind="misuse",
        name=arguments.database,
        needs="bench/misuse_simulation.py runs the audit on PostgreSQL",
        env=env,
    ):
        _run(arguments)


if __name__ == "__main__":
    main()
