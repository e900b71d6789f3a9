"""Load the demo Khối: ``manage.py seed_demo [--scale demo|province] [--reset | --if-empty] [--accounts]``.

The command wires the apps together: the tree and the cells' books (``demo.cells``), then the meeting
history (``demo.meetings``), the ratings and, when asked, the scores (``demo.scoring``). The benchmark
(``bench/data.py``) calls it with a ``demo.cells.Scale`` of its own as ``scale`` and ``history_months``.
"""

import argparse
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from cells.models import Member, Organisation
from demo import cells as demo
from demo import meetings as meetings_demo
from demo.admission import build_demo_admission
from demo.plans import build_demo_plans
from demo.scoring import build_demo_ratings, demo_confirmers, prefill_demo_scores
from demo.training import build_demo_training
from reports import rollups


class Command(BaseCommand):
    help = (
        "Tạo dữ liệu mẫu: một Đảng bộ Khối với các TCCS, chi bộ, đảng viên và các tài khoản demo "
        f"(mật khẩu {demo.DEMO_PASSWORD})."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            choices=sorted(demo.SCALES),
            default="demo",
            help="demo: 20 TCCS, 80 chi bộ, 1.200 đảng viên; province: 100 TCCS, 400 chi bộ, 6.000 đảng viên.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Không làm gì nếu cơ sở dữ liệu đã có tổ chức đảng (dùng cho make run).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Xóa toàn bộ cây tổ chức, đảng viên và các tài khoản demo rồi tạo lại."
        )
        parser.add_argument("--accounts", action="store_true", help="Chỉ in danh sách tài khoản demo.")
        parser.add_argument("--seed", type=int, default=demo.DEMO_SEED, help="Hạt giống ngẫu nhiên (mặc định 2026).")
        parser.add_argument(
            "--scores",
            action="store_true",
            help="Chấm điểm sơ bộ các buổi sinh hoạt của chi bộ demo (cần ứng dụng chấm điểm).",
        )
        # bench/data.py: the months of history of a scale it passes in as a demo.cells.Scale (not on the command line).
        parser.add_argument("--history-months", type=int, default=None, help=argparse.SUPPRESS)

    def handle(self, *args, scale, if_empty, reset, accounts, seed, scores=False, history_months=None, **options):
        if accounts:
            self._print_accounts()
            return
        existing = Organisation.objects.count()
        if existing and if_empty:
            self.stdout.write(f"Đã có {existing} tổ chức đảng trong cơ sở dữ liệu: bỏ qua việc tạo dữ liệu mẫu.")
            return
        if existing and not reset:
            raise CommandError(
                f"Cơ sở dữ liệu đã có {existing} tổ chức đảng và {Member.objects.count()} đảng viên. "
                "Chạy lại với --reset để xóa và tạo lại dữ liệu mẫu."
            )

        today = timezone.localdate()
        # A name of demo.SCALES (the command line), or a demo.Scale passed in (bench/data.py).
        plan = demo.SCALES[scale] if isinstance(scale, str) else scale
        history = history_months if history_months is not None else demo.HISTORY_MONTHS[scale]
        # One transaction: a failed build leaves the old data in place.
        # The monthly rollups (reports.rollups) are built once at the end, not meeting by meeting.
        with transaction.atomic(), rollups.suspended():
            started = time.perf_counter()
            if reset:
                meetings_demo.reset_demo_meetings()
                deleted = demo.reset_demo()
                self.stdout.write(
                    f"Đã xóa {deleted['organisations']} tổ chức, {deleted['members']} đảng viên và các tài khoản demo "
                    f"({time.perf_counter() - started:.1f} s)."
                )
                started = time.perf_counter()
            phases = {}
            mark = time.perf_counter()
            result = demo.build_demo(scale=plan, rng=random.Random(seed), today=today)
            demo.add_previous_terms(before=meetings_demo.history_start(today=today, months=history))
            phases["tree"], mark = time.perf_counter() - mark, time.perf_counter()
            books = demo.build_demo_books(
                rng=random.Random(seed + 1), today=today, featured_cell=result.featured_cell, seed=seed
            )
            phases["books"], mark = time.perf_counter() - mark, time.perf_counter()
            meetings = meetings_demo.build_demo_meetings(
                rng=random.Random(seed + 2), today=today, months=history, featured_cell=result.featured_cell
            )
            phases["meetings"], mark = time.perf_counter() - mark, time.perf_counter()
            build_demo_plans(rng=random.Random(seed + 4), today=today)
            phases["plans"], mark = time.perf_counter() - mark, time.perf_counter()
            build_demo_training(rng=random.Random(seed + 5), today=today)
            phases["training"], mark = time.perf_counter() - mark, time.perf_counter()
            build_demo_admission(today=today, featured_cell=result.featured_cell)
            phases["admission"], mark = time.perf_counter() - mark, time.perf_counter()
            ratings = build_demo_ratings(rng=random.Random(seed + 3), today=today)
            phases["ratings"], mark = time.perf_counter() - mark, time.perf_counter()
            if scores:
                # Every held meeting gets its pre-filled, explained score (the whole Khối at demo scale,
                # the featured đảng bộ at province scale, where scoring one meeting at a time is too slow).
                scope = result.root if scale == "demo" else result.featured_tccs
                confirmers = demo_confirmers()
                for cell in Organisation.objects.filter(path__startswith=scope.path, kind__in=Organisation.CELL_KINDS):
                    prefill_demo_scores(cell, confirmers=confirmers)
                phases["scores"], mark = time.perf_counter() - mark, time.perf_counter()

        # The rollups are rebuilt and PostgreSQL checks the deferred foreign keys here.
        phases["rollups and commit"] = time.perf_counter() - mark
        elapsed = time.perf_counter() - started
        if options.get("verbosity", 1) >= 2:
            self.stdout.write(" · ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items()))
        counts = result.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"Đã tạo dữ liệu mẫu (quy mô {scale}) trong {elapsed:.1f} s: {counts['organisations']} tổ chức đảng, "
                f"{counts['tccs']} TCCS, {counts['cells']} chi bộ, {counts['members']} đảng viên "
                f"({counts['probationary']} dự bị, {counts['exempt']} miễn sinh hoạt, {counts['suspended']} đình chỉ), "
                f"{counts['positions']} chức vụ; {meetings['meetings']} buổi sinh hoạt ({meetings['adopted']} đã thông qua "
                f"biên bản), {meetings['attendances']} lượt điểm danh, {meetings['tasks']} nhiệm vụ; {books['dues']} dòng "
                f"đảng phí, {books['commitments']} bản cam kết, {books['documents']} văn bản; {ratings} lượt xếp loại hằng năm."
            )
        )
        self._print_accounts()

    def _print_accounts(self):
        rows = demo.demo_accounts()
        if not rows:
            self.stdout.write("Chưa có tài khoản demo. Chạy: manage.py seed_demo")
            return
        header = ("Tài khoản", "Vai trò", "Tổ chức", "Họ và tên")
        table = [header] + [
            (r["username"], f"{r['role']} ({r['role_label']})", r["organisation"], r["full_name"]) for r in rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        self.stdout.write("")
        for index, row in enumerate(table):
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        self.stdout.write(f"\nMật khẩu của mọi tài khoản demo: {demo.DEMO_PASSWORD}")
