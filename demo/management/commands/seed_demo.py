"""Load the demo Khối: ``manage.py seed_demo [--scale demo|province] [--reset | --if-empty] [--accounts]``.

The command wires the apps together: the tree and the cells' books (``cells.demo``), then the meeting
history (``meetings.demo``, imported here lazily: cells is the lower layer and never imports meetings).
"""

import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from cells import demo
from cells.models import Member, Organisation, RoleAssignment


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
        parser.add_argument("--scores", action="store_true",
                            help="Chấm điểm sơ bộ các buổi sinh hoạt của chi bộ demo (cần ứng dụng chấm điểm).")

    def handle(self, *args, scale, if_empty, reset, accounts, seed, scores=False, **options):
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

        from meetings import demo as meetings_demo
        from scoring.demo import build_demo_ratings

        today = timezone.localdate()
        history = demo.HISTORY_MONTHS[scale]
        # One transaction: a failed build leaves the old data in place.
        with transaction.atomic():
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
            result = demo.build_demo(scale=scale, rng=random.Random(seed), today=today)
            demo.add_previous_terms(before=meetings_demo.history_start(today=today, months=history))
            phases["tree"], mark = time.perf_counter() - mark, time.perf_counter()
            books = demo.build_demo_books(rng=random.Random(seed + 1), today=today, featured_cell=result.featured_cell,
                                          seed=seed)
            phases["books"], mark = time.perf_counter() - mark, time.perf_counter()
            meetings = meetings_demo.build_demo_meetings(rng=random.Random(seed + 2), today=today, months=history,
                                                         featured_cell=result.featured_cell)
            phases["meetings"], mark = time.perf_counter() - mark, time.perf_counter()
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

        phases["commit"] = time.perf_counter() - mark  # PostgreSQL checks the deferred foreign keys here
        elapsed = time.perf_counter() - started
        if options.get("verbosity", 1) >= 2:
            self.stdout.write(" · ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items()))
        counts = result.counts
        self.stdout.write(self.style.SUCCESS(
            f"Đã tạo dữ liệu mẫu (quy mô {scale}) trong {elapsed:.1f} s: {counts['organisations']} tổ chức đảng, "
            f"{counts['tccs']} TCCS, {counts['cells']} chi bộ, {counts['members']} đảng viên "
            f"({counts['probationary']} dự bị, {counts['exempt']} miễn sinh hoạt, {counts['suspended']} đình chỉ), "
            f"{counts['positions']} chức vụ; {meetings['meetings']} buổi sinh hoạt ({meetings['adopted']} đã thông qua "
            f"biên bản), {meetings['attendances']} lượt điểm danh, {meetings['tasks']} nhiệm vụ; {books['dues']} dòng "
            f"đảng phí, {books['commitments']} bản cam kết, {books['documents']} văn bản; {ratings} lượt xếp loại hằng năm."
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


def demo_confirmers() -> list[tuple[str, object]]:
    """The demo accounts that confirm meeting scores, with the path of the organisation their role covers."""
    from scoring.selectors import CONFIRM_ROLES

    assignments = (RoleAssignment.objects.filter(user__username__in=demo.DEMO_USERNAMES, role__in=CONFIRM_ROLES,
                                                 end__isnull=True)
                   .select_related("user", "organisation"))
    return [(a.organisation.path, a.user) for a in assignments]


def confirmer_for(cell, confirmers):
    """The nearest upper level of ``cell`` among the demo accounts: the officer of its own đảng ủy cơ sở
    when there is one, else the Khối's admin. Nobody confirms a cell outside their subtree."""
    above = [(path, user) for path, user in confirmers if cell.path.startswith(path) and cell.path != path]
    return max(above, key=lambda item: len(item[0]))[1] if above else None


def prefill_demo_scores(cell, *, confirmers=None) -> int:
    """Hook: pre-fill (and self-adopt) the meeting scores of ``cell``'s held meetings with the scoring app,
    and have the upper level confirm those older than two months.

    Off by default (``seed_demo --scores``): the scoring app scores one meeting at a time through its
    services, which suits the featured cell's dozen meetings, not the whole province. The services
    stamp every row and audit entry with the seed's moment; they are moved back to when the cell
    adopted its score (with the minutes) and when the upper level confirmed it.
    """
    import datetime

    from cells.models import AuditEntry
    from meetings.demo import meetings_to_score
    from scoring.models import MeetingScore, MeetingScoreLine
    from scoring.services import meeting_score_confirm, meeting_score_prefill_bulk

    meetings = meetings_to_score(cell=cell)
    first_entry = (AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    scored = meeting_score_prefill_bulk(meetings=meetings, adopt=True)
    # The upper level has confirmed all but the last two months, which still wait for it.
    officer = confirmer_for(cell, demo_confirmers() if confirmers is None else confirmers)
    now = timezone.now()
    cutoff = now - datetime.timedelta(days=60)
    if officer is not None:
        for score in MeetingScore.objects.filter(meeting__in=[m for m in meetings if m.planned_start < cutoff],
                                                 state=MeetingScore.State.SELF_ADOPTED):
            meeting_score_confirm(score=score, by=officer)

    rng = random.Random(f"{demo.DEMO_SEED}-{cell.path}")  # not the primary keys: --reset renumbers
    by_meeting = {m.pk: m for m in meetings}
    scores, moments = [], {}
    for score in MeetingScore.objects.filter(meeting__in=meetings).order_by("meeting__planned_start"):
        meeting = by_meeting[score.meeting_id]
        # Minutes not adopted yet: the score half an hour after the meeting (over at least 45 minutes
        # before now, see meetings.demo.OVER_AFTER).
        adopted = meeting.adopted_at or meeting.actual_end + datetime.timedelta(minutes=30)
        confirmed = None
        if score.confirmed_at is not None:  # only meetings older than two months
            confirmed = min(adopted + datetime.timedelta(days=rng.randint(3, 20), hours=rng.randint(0, 6)),
                            now - datetime.timedelta(minutes=1))
        moments[score.pk] = (adopted, confirmed)
        scores.append((score.pk, adopted, adopted if score.self_adopted_at else None, confirmed, confirmed or adopted))
    demo.set_columns(MeetingScore, ("created_at", "self_adopted_at", "confirmed_at", "updated_at"), scores)
    score_of_line = dict(MeetingScoreLine.objects.filter(score_id__in=moments).values_list("pk", "score_id"))
    entries = []
    for pk, object_type, object_id, action in AuditEntry.objects.filter(pk__gte=first_entry).values_list(
            "pk", "object_type", "object_id", "action"):
        score_id = (int(object_id) if object_type == "scoring.meetingscore" else
                    score_of_line.get(int(object_id)) if object_type == "scoring.meetingscoreline" else None)
        if score_id not in moments:
            continue
        adopted, confirmed = moments[score_id]
        upper = action.endswith((".confirm", ".override"))
        entries.append((pk, confirmed if upper and confirmed else adopted))
    demo.set_columns(AuditEntry, ("created_at",), entries)
    return scored
