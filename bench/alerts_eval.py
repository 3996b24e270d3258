"""Alert detectors against the demo's injected anomalies, and the time a scan takes.

For each seed, a demo (``--months`` of history at ``--scale``, ending ``--today``) is built
into a scratch SQLite file under ``--dir`` (kept and reused: delete it to rebuild). The
default seed is the demo's own; others re-seed every random stream of the demo
(``companion.demo.streams``), so their data and anomalies differ. The detector was tuned on
the default seed only.

Scoring: the sales-anomaly detector runs over every day of history as daily scans would
(it only ever looks backwards); a detected company-level day inside the window where the
demo may inject anomalies (from 4 weeks after the start to a week before today) is a true
positive if ``demo_anomalies`` holds it, else a false positive; a recorded anomaly not
detected is a miss. Days flagged outside that window are listed, not scored.

Timing: ``scan_company`` (every detector, alerts upserted, rolled back) per company,
median and p95, against reading the company's daily sales series alone in the same run.

    .venv/bin/python bench/alerts_eval.py [--seeds 20260401,4242] [--runs 15]
    .venv/bin/python bench/alerts_eval.py --seeds ... --invoices-only   # the earlier drop rule
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).parent))
from common import p, timed  # noqa: E402

from companion.alerts import service as alerts  # noqa: E402
from companion.alerts.detectors.anomaly import find_anomalies  # noqa: E402
from companion.alerts.detectors.sales import company_series  # noqa: E402
from companion.auth.passwords import PasswordHasher  # noqa: E402
from companion.demo import streams  # noqa: E402
from companion.demo.models import DemoAnomaly  # noqa: E402
from companion.erp.invoicing.sales_repository import daily_sales  # noqa: E402
from companion.kit import migrate  # noqa: E402
from companion.kit.db import make_engine, session_scope  # noqa: E402
from companion.tenancy.context import RequestContext  # noqa: E402
from companion.tenancy.models import Company  # noqa: E402


def build(path: Path, seed: int, today: dt.date, months: int, scale: float) -> None:
    """A demo database at ``path`` for ``seed`` (skipped when the file exists)."""
    from companion.demo.planner import plan_demo
    from companion.demo.service import build_planned

    if path.exists():
        return
    defaults = streams.stream.__kwdefaults__
    assert defaults is not None
    saved = defaults["seed"]
    defaults["seed"] = seed
    try:
        plans = plan_demo(today, months=months, scale=scale)
    finally:
        defaults["seed"] = saved
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    started = time.perf_counter()
    with session_scope(sessionmaker(bind=engine)) as session:
        build_planned(session, PasswordHasher(), plans)
    engine.dispose()
    print(f"  built {path} in {time.perf_counter() - started:.0f} s")


def evaluate(
    session: Session, today: dt.date, *, invoices_only: bool = False
) -> tuple[int, int, int]:
    """(true positives, false positives, misses) over both companies, printed per company.

    ``invoices_only``: the series without the orders taken (the rule before orders counted:
    a day without invoices is idle), for comparison on the same demos.
    """
    tp = fp = fn = 0
    for company in session.execute(select(Company).order_by(Company.id)).scalars():
        ctx = alerts.system_context(company)
        truth = {
            a.on_date: a.direction
            for a in session.execute(
                select(DemoAnomaly).where(DemoAnomaly.company_id == company.id)
            ).scalars()
        }
        series = company_series(session, ctx, today - dt.timedelta(days=3 * 366), today)
        if invoices_only:
            series = {d: replace(v, orders=None) for d, v in series.items() if v.invoices}
        start = min(series)
        found = find_anomalies(series, start=start, first=start, last=today - dt.timedelta(1))
        span = (today - start).days
        window = (start + dt.timedelta(days=min(28, span // 3)), today - dt.timedelta(days=7))
        scored = {a.day: a for a in found if window[0] <= a.day <= window[1]}
        hits = set(scored) & set(truth)
        false = sorted(set(scored) - set(truth))
        missed = sorted(set(truth) - set(scored))
        tp, fp, fn = tp + len(hits), fp + len(false), fn + len(missed)
        outside = sorted(a.day.isoformat() for a in found if a.day not in scored)
        print(
            f"  {company.slug}: {len(truth)} injected ({sum(v == 'drop' for v in truth.values())}"
            f" drops), {len(hits)} found, false {[d.isoformat() for d in false]}, missed "
            f"{[d.isoformat() for d in missed]}; flagged outside the window {outside}"
        )
    return tp, fp, fn


def isolation_forest(session: Session, today: dt.date) -> tuple[int, int, int] | None:
    """The same scoring for sklearn's IsolationForest on the same weekday residuals.

    Features per day: the invoice count and the log value less their weekday baselines
    (so the forest gets the seasonality the robust z-score gets); contamination 2% (about
    7 days a year: the demo injects 6). None when scikit-learn is not installed.
    """
    try:
        from sklearn.ensemble import IsolationForest  # type: ignore[import-not-found]
    except ImportError:
        return None
    from companion.alerts.detectors.anomaly import Params, _Series

    tp = fp = fn = 0
    for company in session.execute(select(Company).order_by(Company.id)).scalars():
        ctx = alerts.system_context(company)
        truth = {
            a.on_date
            for a in session.execute(
                select(DemoAnomaly).where(DemoAnomaly.company_id == company.id)
            ).scalars()
        }
        series = company_series(session, ctx, today - dt.timedelta(days=3 * 366), today)
        start = min(series)
        s = _Series(series, start, Params())
        span = (today - start).days
        window = (start + dt.timedelta(days=min(28, span // 3)), today - dt.timedelta(days=7))
        days, features = [], []
        for i in range(span):
            day = start + dt.timedelta(days=i)
            res = s.residuals(day)
            if res is not None:
                days.append(day)
                features.append([res[0], res[1]])
        forest = IsolationForest(contamination=0.02, random_state=0).fit(features)
        flagged = {d for d, label in zip(days, forest.predict(features), strict=True) if label < 0}
        scored = {d for d in flagged if window[0] <= d <= window[1]}
        tp += len(scored & truth)
        fp += len(scored - truth)
        fn += len(truth - scored)
    return tp, fp, fn


def timing(session: Session, today: dt.date, runs: int) -> None:
    for company in session.execute(select(Company).order_by(Company.id)).scalars():
        ctx = alerts.system_context(company)

        def scan(cid: int = company.id) -> None:
            nested = session.begin_nested()
            alerts.scan_company(session, cid, today)
            nested.rollback()

        def series(ctx: RequestContext = ctx) -> None:
            daily_sales(session, ctx, today - dt.timedelta(weeks=19), today)

        nested = session.begin_nested()
        result = alerts.scan_company(session, company.id, today)
        nested.rollback()
        scans, reads = timed(scan, runs, warmup=1), timed(series, runs, warmup=1)
        ratio = statistics.median(scans) / statistics.median(reads)
        print(
            f"  {company.slug}: scan finds {result.found} ({result.by_type}); scan median "
            f"{statistics.median(scans):.1f} ms p95 {p(scans, 95):.1f} ms; sales series alone "
            f"median {statistics.median(reads):.1f} ms p95 {p(reads, 95):.1f} ms; "
            f"ratio {ratio:.1f}x"
        )


def compare_and_time(session: Session, today: dt.date, runs: int) -> None:
    forest = isolation_forest(session, today)
    if forest is None:
        print("  IsolationForest: scikit-learn is not installed (skipped)")
    else:
        ftp, ffp, ffn = forest
        fp_rate, recall_ = ftp / max(ftp + ffp, 1), ftp / max(ftp + ffn, 1)
        print(
            f"  IsolationForest (same residuals): precision {fp_rate:.3f} "
            f"({ftp}/{ftp + ffp}), recall {recall_:.3f} ({ftp}/{ftp + ffn})"
        )
    timing(session, today, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default=f"{streams.SEED},4242")
    parser.add_argument("--today", default="2026-12-06")
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--dir", default="/tmp/companion-alerts-eval")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--invoices-only",
        action="store_true",
        help="score the drop rule on invoices alone (before orders taken counted), no timing",
    )
    args = parser.parse_args()
    today = dt.date.fromisoformat(args.today)
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    for seed in (int(s) for s in args.seeds.split(",")):
        tag = "default seed" if seed == streams.SEED else "held-out seed"
        print(f"seed {seed} ({tag}), {args.months} months at scale {args.scale} to {today}:")
        path = folder / f"demo-{seed}-{args.months}m-{args.scale}.db"
        build(path, seed, today, args.months, args.scale)
        engine = make_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        with Session(engine) as session:
            tp, fp, fn = evaluate(session, today, invoices_only=args.invoices_only)
            precision = tp / (tp + fp) if tp + fp else 0.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            print(f"  precision {precision:.3f} ({tp}/{tp + fp}), ", end="")
            print(f"recall {recall:.3f} ({tp}/{tp + fn})")
            if not args.invoices_only:
                compare_and_time(session, today, args.runs)
            session.rollback()
        engine.dispose()


if __name__ == "__main__":
    main()
