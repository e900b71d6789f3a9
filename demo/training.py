"""The demo Khối's training courses for its cell officers (issue #18, item 5).

``build_demo_training(rng=..., today=...)`` runs after the tree: the Khối holds a three-day course for
bí thư, phó bí thư and chi ủy viên twice a year (in June and in November), from the year the oldest post
in force began to ``today``'s; only courses already ended are built. Most officers in post attended the
first course after their post began and got a certificate; about one in eight did not, so the list
"Cấp ủy viên chưa được bồi dưỡng" (cells.training) shows a few officers, not everyone. Bulk inserts, no
audit rows, like the rest of the demo.
"""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone

from cells import training
from cells.models import CourseAttendance, Organisation, TrainingCourse

# (month, first day): the course runs three days.
COURSE_DATES = ((6, 16), (11, 10))
SKIP_SHARE = 0.125


def build_demo_training(*, rng: random.Random, today: datetime.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    khoi = Organisation.objects.filter(kind=Organisation.Kind.KHOI).order_by("path").first()
    if khoi is None:
        return {"courses": 0, "attendances": 0}
    posts = list(training.posts_in_force(organisations=Organisation.objects.all(), on=today))
    if not posts:
        return {"courses": 0, "attendances": 0}
    first_year = min(post.start for post in posts).year
    with transaction.atomic():
        courses = TrainingCourse.objects.bulk_create(
            [
                TrainingCourse(
                    organiser=khoi,
                    title=f"Lớp bồi dưỡng nghiệp vụ công tác Đảng cho cấp ủy viên chi bộ, đợt {n}/{year}",
                    kind=TrainingCourse.Kind.OFFICER,
                    start_date=datetime.date(year, month, day),
                    end_date=datetime.date(year, month, day + 2),
                    place="Hội trường Đảng ủy Khối",
                )
                for year in range(first_year, today.year + 1)
                for n, (month, day) in enumerate(COURSE_DATES, start=1)
                if datetime.date(year, month, day + 2) <= today
            ]
        )
        courses.sort(key=lambda course: course.end_date)
        rows: dict[tuple[int, int], CourseAttendance] = {}
        for post in posts:
            course = next((c for c in courses if c.end_date >= post.start), None)
            if course is None or rng.random() < SKIP_SHARE or (course.pk, post.member_id) in rows:
                continue
            number = len(rows) + 1
            rows[(course.pk, post.member_id)] = CourseAttendance(
                course=course,
                member_id=post.member_id,
                completed=True,
                certificate_number=f"{number:04d}/GCN-ĐUK",
            )
        CourseAttendance.objects.bulk_create(rows.values())
    return {"courses": len(courses), "attendances": len(rows)}
