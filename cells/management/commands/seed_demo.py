"""Load the demo Khối: ``manage.py seed_demo [--scale demo|province] [--reset | --if-empty] [--accounts]``."""

import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cells import demo
from cells.models import Member, Organisation


class Command(BaseCommand):
    help = (
        "Tạo dữ liệu mẫu: một Đảng bộ Khối với các TCCS, chi bộ, đảng viên và các tài khoản demo "
        f"(mật khẩu {demo.DEMO_PASSWORD})."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(demo.SCALES), default="demo",
                            help="demo: 20 TCCS, 80 chi bộ, 1.200 đảng viên; province: 100 TCCS, 400 chi bộ, 6.000 đảng viên.")
        parser.add_argument("--if-empty", action="store_true",
                            help="Không làm gì nếu cơ sở dữ liệu đã có tổ chức đảng (dùng cho make run).")
        parser.add_argument("--reset", action="store_true",
                            help="Xóa toàn bộ cây tổ chức, đảng viên và các tài khoản demo rồi tạo lại.")
        parser.add_argument("--accounts", action="store_true", help="Chỉ in danh sách tài khoản demo.")
        parser.add_argument("--seed", type=int, default=demo.DEMO_SEED, help="Hạt giống ngẫu nhiên (mặc định 2026).")

    def handle(self, *args, scale, if_empty, reset, accounts, seed, **options):
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

        # One transaction: a failed build leaves the old data in place.
        with transaction.atomic():
            started = time.perf_counter()
            if reset:
                deleted = demo.reset_demo()
                self.stdout.write(
                    f"Đã xóa {deleted['organisations']} tổ chức, {deleted['members']} đảng viên và các tài khoản demo "
                    f"({time.perf_counter() - started:.1f} s)."
                )
                started = time.perf_counter()
            result = demo.build_demo(scale=scale, rng=random.Random(seed))
            elapsed = time.perf_counter() - started

        counts = result.counts
        self.stdout.write(self.style.SUCCESS(
            f"Đã tạo dữ liệu mẫu (quy mô {scale}) trong {elapsed:.1f} s: {counts['organisations']} tổ chức đảng, "
            f"{counts['tccs']} TCCS, {counts['cells']} chi bộ, {counts['members']} đảng viên "
            f"({counts['probationary']} dự bị, {counts['exempt']} miễn sinh hoạt, {counts['suspended']} đình chỉ), "
            f"{counts['positions']} chức vụ."
        ))
        self._print_accounts()

    def _print_accounts(self):
        rows = demo.demo_accounts()
        if not rows:
            self.stdout.write("Chưa có tài khoản demo. Chạy: manage.py seed_demo")
            return
        header = ("Tài khoản", "Vai trò", "Tổ chức", "Họ và tên")
        table = [header] + [(r["username"], f"{r['role']} ({r['role_label']})", r["organisation"], r["full_name"])
                            for r in rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(header))]
        self.stdout.write("")
        for index, row in enumerate(table):
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        self.stdout.write(f"\nMật khẩu của mọi tài khoản demo: {demo.DEMO_PASSWORD}")
