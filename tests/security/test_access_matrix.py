"""Every URL of the project, for every role: the access matrix of design §2.

The URL patterns are read from the URLconf, so a new page cannot be forgotten: a pattern missing
from ``MATRIX`` fails the test. Each row fills the URL's arguments with objects of cell A (the
``objects`` fixture in conftest.py) and says, for the roles in ``ROLES`` order, what a GET and an
empty POST must answer:

    o  allowed: 2xx or 3xx (a redirect that is not to the login page)
    f  refused: 403 (or 405)
    n  not found: 404
    m  method not allowed: 405 (GET on a POST-only action)
    x  403 or 404 (a role-level refusal that does not depend on the object)

The anonymous visitor is always sent to the login page, except on ``PUBLIC``. Nobody ever gets 500.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

ROLES = ["admin", "viewer", "officer", "secretary", "clerk", "member", "other_secretary"]
EXCLUDED_PREFIXES = ("quan-tri/", "i18n/", "static/", "media/")
PUBLIC = {
    "login",
    "meetings:rsvp",
    "meetings:rsvp_document",
    "meetings:calendar_feed",
    "verify_lookup",
    "verify_document",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "favicon",
    "meetings:rsvp_absence",
    "meetings:async_answer",
    "meetings:async_answer_document",
    "meetings:rsvp_online",
    "meetings:rsvp_presence",
    "meetings:rsvp_opinion",
    "meetings:rsvp_ballot",
}

# Shorthands for common rows (roles: admin viewer officer secretary clerk member other).
EVERYONE = "ooooooo"
CELL_READ = "ooooonn"  # readers of the cell; a plain member does not read it; the other tenant 404
CELL_AND_MEMBERS = "oooooon"  # the cell's members see it too
CELL_WRITE = "ofoofnn"  # secretary and the managers above; the member does not see the object
MEETING_WRITE = "ofooffn"  # the member sees the meeting but may not change it
MANAGE_MEMBER = "ofofffn"  # khối admin and TCCS officer only; the member sees their own record
DASHBOARD = "ooofxxx"  # upper-level staff only; cell users are refused whatever the scope
MINUTES_WRITE = "ofooofn"  # the meeting's own clerk writes the record too
UPPER_WRITE = "ofoffnn"  # the upper level (inspections); the member does not see the cell
STAFF_LIST = "ooooofo"  # lists of the user's own subtrees; a plain member has none
HAS_MEMBER_RECORD = "fffooof"  # pages about the user's own member record
POST_ONLY = "mmmmmmm"

# name: (kwargs as keys of the objects built below, GET codes, POST codes or None for "same as GET")
MATRIX = {
    # config/urls.py
    "home": ({}, EVERYONE, None),
    "login": ({}, EVERYONE, None),
    "logout": ({}, "mmmmmmm", EVERYONE),
    "password_change": ({}, EVERYONE, None),
    "password_change_done": ({}, EVERYONE, POST_ONLY),
    # "Quên mật khẩu": public; an empty POST is an invalid form (200), a bogus link the "link no longer works" page
    "password_reset": ({}, EVERYONE, None),
    "password_reset_done": ({}, EVERYONE, POST_ONLY),
    "password_reset_confirm": ({"uidb64": "MQ", "token": "set-password"}, EVERYONE, None),
    "password_reset_complete": ({}, EVERYONE, POST_ONLY),
    "favicon": ({}, EVERYONE, POST_ONLY),
    "verify_lookup": ({}, EVERYONE, None),
    # the second step of signing in and the user's own account (issue #21): everyone's own; the roles that
    # must keep the second factor cannot turn it off
    "two_factor_verify": ({}, EVERYONE, None),
    "account:account": ({}, EVERYONE, None),
    "account:two_factor_setup": ({}, EVERYONE, None),
    "account:two_factor_disable": ({}, POST_ONLY, "fffoooo"),
    "account:recovery_codes_regenerate": ({}, POST_ONLY, EVERYONE),
    "account:sessions": ({}, EVERYONE, None),
    "account:sessions_end_others": ({}, POST_ONLY, EVERYONE),
    "verify_document": ({"code": "verify_code"}, EVERYONE, None),
    # Everyone searches within what they may see (tests/meetings/test_search.py); GET only.
    "search": ({}, EVERYONE, POST_ONLY),
    # cells/urls.py
    "cells:organisation_tree": ({}, STAFF_LIST, None),
    "cells:organisation_detail": ({"pk": "cell"}, CELL_READ, None),
    "cells:organisation_roles": ({"pk": "cell"}, UPPER_WRITE, None),  # the khối admin and the TCCS officer grant roles
    "cells:role_end": ({"pk": "role"}, POST_ONLY, UPPER_WRITE),
    # the tree's pages (tree.manage, positions.assign): the upper level over the unit, never the cell itself
    "cells:organisation_create": ({"pk": "cell"}, UPPER_WRITE, None),
    "cells:organisation_update": ({"pk": "cell"}, UPPER_WRITE, None),
    "cells:organisation_move": ({"pk": "cell"}, UPPER_WRITE, None),
    "cells:position_assign": ({"pk": "cell"}, UPPER_WRITE, None),
    "cells:position_end": ({"pk": "position"}, UPPER_WRITE, None),
    "cells:member_list": ({}, STAFF_LIST, None),
    "cells:member_create": ({}, "ofoffff", None),
    "cells:member_export": ({}, STAFF_LIST, None),
    "cells:member_import": ({}, "ofoffff", None),
    "cells:member_import_columns": ({}, POST_ONLY, "ofoffff"),
    "cells:member_import_confirm": ({}, POST_ONLY, "ofoffff"),
    "cells:member_detail": ({"pk": "member"}, CELL_AND_MEMBERS, None),
    "cells:member_update": ({"pk": "member"}, MANAGE_MEMBER, None),
    "cells:member_transfer": ({"pk": "member"}, MANAGE_MEMBER, None),
    "cells:member_exempt": ({"pk": "member"}, MANAGE_MEMBER, None),
    "cells:member_attach": ({"pk": "member"}, MANAGE_MEMBER, None),
    # personal data (cells/privacy.py): the khối admin, the TCCS officer, the cell's secretary and the
    # member themself reveal; the change requests are decided by the khối admin and the TCCS officer
    "cells:member_reveal": ({"pk": "member", "field": "citizen_id"}, POST_ONLY, "ofoofon"),
    "cells:my_personal_data": ({}, HAS_MEMBER_RECORD, None),
    "cells:correction_list": ({}, "ofoffff", None),
    "cells:correction_decide": ({"pk": "correction"}, POST_ONLY, MANAGE_MEMBER),
    # cells/urls_books.py
    "books:books_index": ({}, EVERYONE, None),
    "books:books_cell": ({"pk": "cell"}, CELL_READ, None),
    "books:books_dues_ledger": ({"pk": "cell"}, CELL_READ, None),
    "books:books_dues_open": ({"pk": "cell"}, POST_ONLY, CELL_WRITE),
    "books:books_dues_record": ({"pk": "cell"}, CELL_WRITE, None),
    "books:books_dues_pdf": ({"pk": "cell"}, CELL_READ, None),
    "books:books_dues_xlsx": ({"pk": "cell"}, CELL_READ, None),
    "books:books_dues_arrears": ({"pk": "cell"}, CELL_READ, None),
    # the HD 03 area of a unit (issue #19): whoever keeps its books (a TCCS: its managers, tests/cells)
    "books:books_dues_area": ({"pk": "cell"}, CELL_WRITE, None),
    "books:books_dues_remit": ({"pk": "cell"}, CELL_WRITE, None),
    "books:books_fund_entry": ({"pk": "cell"}, CELL_WRITE, None),
    # correcting and deleting a line of the book (issue #19): whoever keeps the book; the edit rows come
    # before the delete rows, since an allowed POST on a delete removes the line
    "books:books_dues_remit_edit": ({"pk": "cell", "line_pk": "remittance"}, CELL_WRITE, None),
    "books:books_fund_entry_edit": ({"pk": "cell", "line_pk": "fund_entry"}, CELL_WRITE, None),
    "books:books_dues_remit_delete": ({"pk": "cell", "line_pk": "remittance"}, CELL_WRITE, None),
    "books:books_fund_entry_delete": ({"pk": "cell", "line_pk": "fund_entry"}, CELL_WRITE, None),
    # the đảng ủy cơ sở's list of its cells that have not remitted: its staff; cell users do not read the TCCS
    "books:books_dues_unremitted": ({"pk": "tccs"}, "ooonnnn", None),
    "books:books_member_dues": ({"pk": "member"}, CELL_AND_MEMBERS, None),
    "books:books_dues_relief": ({"pk": "member"}, "ofooffn", None),
    "books:books_cell_documents": ({"pk": "cell"}, CELL_READ, None),
    "books:books_document_upload": ({"pk": "cell", "type_pk": "doctype"}, CELL_WRITE, None),
    "books:books_document_download": ({"pk": "celldoc"}, CELL_READ, None),
    "books:books_documents_table": ({"pk": "cell"}, CELL_READ, None),
    "books:books_commitment_mine": ({}, HAS_MEMBER_RECORD, None),
    "books:books_commitments": ({"pk": "cell"}, CELL_READ, None),
    "books:books_commitment_paper": ({"pk": "cell", "member_pk": "member"}, CELL_WRITE, None),
    "books:books_lifecycle": ({"pk": "cell"}, CELL_READ, None),
    "books:books_member_admission": ({"pk": "member"}, MANAGE_MEMBER, None),
    "books:books_member_full_membership": ({"pk": "member"}, MANAGE_MEMBER, None),
    "books:books_member_exemption_end": ({"pk": "member"}, MANAGE_MEMBER, None),
    "books:books_member_suspension": ({"pk": "member"}, MANAGE_MEMBER, None),
    "books:books_member_removal": ({"pk": "member"}, MANAGE_MEMBER, None),
    # cells/urls_inbox.py: a message is its recipient's alone
    "inbox:inbox": ({}, EVERYONE, None),
    "inbox:notification_detail": ({"pk": "notification"}, "nnnnnon", None),
    "inbox:notification_attachment": ({"pk": "notification"}, "nnnnnon", POST_ONLY),
    "inbox:inbox_mark_all_read": ({}, POST_ONLY, EVERYONE),
    "inbox:reminder_email_preference": ({}, POST_ONLY, EVERYONE),
    # cells/urls_audit.py: the change log, for the khối admin and the TCCS officer (their subtree)
    "audit:audit_list": ({}, "ofoffff", None),
    "audit:audit_export": ({}, "ofoffff", None),
    # cells/urls_training.py (issue #18, item 5): the upper levels read the courses and the officers without
    # the course (training.read); the Khối's admin and the TCCS officer run their unit's courses (training.manage,
    # over the organiser: the course is A's đảng ủy cơ sở's). A cell's roles see no course (404) and are refused
    # the officers list of their own cell (403). The delete row comes last: an allowed POST removes the attendee.
    "training:course_list": ({}, "oooffff", None),
    "training:course_create": ({}, "ofoffff", None),
    "training:course_detail": ({"pk": "course"}, "ooonnnn", None),
    "training:course_update": ({"pk": "course"}, "ofonnnn", None),
    "training:attendance_add": ({"pk": "course"}, "ofonnnn", None),
    "training:attendance_update": ({"pk": "attendance"}, "ofonnnn", None),
    "training:certificate_download": ({"pk": "attendance"}, "ooonnnn", None),
    "training:officers_untrained": ({"pk": "cell"}, "oooffnn", None),
    "training:attendance_delete": ({"pk": "attendance"}, POST_ONLY, "ofonnnn"),
    # cells/urls_admission.py (issue #18, item 4): the cell's bí thư and the upper levels read the pipeline
    # (admission.read; the clerk is refused his cell's, a plain member sees none); the bí thư and the managers
    # above record the steps (admission.manage); the upper levels' view by đảng bộ is for their staff.
    "admission:cell_pipeline": ({"pk": "cell"}, "oooofnn", None),
    "admission:candidate_create": ({"pk": "cell"}, CELL_WRITE, None),
    "admission:unit_pipeline": ({"pk": "tccs"}, "ooonnnn", None),
    "admission:candidate_detail": ({"pk": "candidate"}, "oooonnn", None),
    "admission:candidate_update": ({"pk": "candidate"}, "ofoonnn", None),
    "admission:candidate_step": ({"pk": "candidate", "step": "class"}, "ofoonnn", None),
    "admission:candidate_withdraw": ({"pk": "candidate"}, "ofoonnn", None),
    "admission:candidate_document_upload": ({"pk": "candidate"}, "ofoonnn", None),
    # the scan of a candidate's paper: whoever reads the candidate; a member of another cell gets 404
    "admission:candidate_document_download": ({"pk": "candidate_document"}, "oooonnn", None),
    # meetings/urls.py
    "meetings:index": ({}, EVERYONE, None),
    "meetings:cell_list": ({"cell_pk": "cell"}, CELL_AND_MEMBERS, None),
    "meetings:create": ({"cell_pk": "cell"}, "ofooffn", None),
    "meetings:record_past": ({"cell_pk": "cell"}, "ofooffn", None),
    "meetings:minutes_book_pdf": ({"cell_pk": "cell", "year": 2026}, CELL_AND_MEMBERS, None),
    "meetings:detail": ({"pk": "meeting"}, CELL_AND_MEMBERS, None),
    "meetings:update": ({"pk": "meeting"}, MEETING_WRITE, None),
    "meetings:publish": ({"pk": "meeting"}, POST_ONLY, MEETING_WRITE),
    "meetings:plan_next": ({"pk": "meeting"}, POST_ONLY, MEETING_WRITE),
    "meetings:cancel": ({"pk": "meeting"}, MEETING_WRITE, None),
    "meetings:confirm": ({"pk": "meeting"}, POST_ONLY, "fffooon"),
    "meetings:rsvp_counts": ({"pk": "meeting"}, CELL_AND_MEMBERS, None),
    "meetings:held": ({"pk": "meeting"}, MINUTES_WRITE, None),
    "meetings:attendance": ({"pk": "meeting"}, MINUTES_WRITE, None),
    "meetings:opinion_add": ({"pk": "meeting"}, MINUTES_WRITE, None),
    "meetings:vote_add": ({"pk": "meeting"}, MINUTES_WRITE, None),
    "meetings:resolution": ({"pk": "meeting"}, MINUTES_WRITE, None),
    "meetings:task_add": ({"pk": "meeting"}, MINUTES_WRITE, None),
    "meetings:agenda_add": ({"pk": "meeting"}, MEETING_WRITE, None),
    "meetings:agenda_edit": ({"pk": "meeting", "item_pk": "item"}, MEETING_WRITE, None),
    "meetings:document_add": ({"pk": "meeting"}, MEETING_WRITE, None),
    "meetings:document_download": ({"pk": "meeting", "document_pk": "meeting_document"}, CELL_AND_MEMBERS, None),
    "meetings:minutes": ({"pk": "meeting"}, CELL_AND_MEMBERS, None),
    "meetings:minutes_pdf": ({"pk": "meeting"}, CELL_AND_MEMBERS, None),
    "meetings:notice_pdf": ({"pk": "meeting"}, CELL_AND_MEMBERS, None),
    "meetings:resolution_pdf": ({"pk": "meeting"}, CELL_AND_MEMBERS, None),
    "meetings:adopt": ({"pk": "meeting"}, MEETING_WRITE, None),
    "meetings:amend": ({"pk": "meeting"}, MEETING_WRITE, None),
    "meetings:rsvp": ({"token": "token"}, EVERYONE, None),
    # a document of the member's own meeting from their link (no login; the link is the key); GET only
    "meetings:rsvp_document": ({"token": "token", "document_pk": "meeting_document"}, EVERYONE, POST_ONLY),
    # before the meeting (issue #17 item 2): the member's own request, from the link or logged in; whoever
    # records the meeting's attendance decides it and reads its evidence with the member who sent it
    "meetings:rsvp_absence": ({"token": "token"}, EVERYONE, None),
    "meetings:absence_request": ({"pk": "meeting"}, "fffooon", None),
    "meetings:absence_decide": ({"pk": "meeting", "request_pk": "absence_request"}, POST_ONLY, MINUTES_WRITE),
    "meetings:absence_evidence": ({"pk": "meeting", "request_pk": "absence_request"}, "ofoooon", POST_ONLY),
    "meetings:speak_request": ({"pk": "meeting", "item_pk": "item"}, POST_ONLY, "fffooon"),
    "meetings:draft_comment": ({"pk": "meeting"}, "fffooon", None),
    # questions asked between meetings (issue #17 item 4): the cell's bí thư and the managers above open and
    # follow them (a member answers from the link, not from these pages); the member's link is public
    "meetings:async_list": ({"cell_pk": "cell"}, MEETING_WRITE, POST_ONLY),
    "meetings:async_create": ({"cell_pk": "cell"}, MEETING_WRITE, None),
    "meetings:async_detail": ({"pk": "async_decision"}, MEETING_WRITE, POST_ONLY),
    "meetings:async_document": ({"pk": "async_decision", "document_pk": "async_document"}, MEETING_WRITE, POST_ONLY),
    "meetings:async_answer": ({"token": "async_token"}, EVERYONE, None),
    "meetings:async_answer_document": ({"token": "async_token", "document_pk": "async_document"}, EVERYONE, POST_ONLY),
    # online and hybrid meetings (issue #17 item 3): the member's room from the link (no login; the link is the
    # key: an empty POST is refused with a message, the meeting being closed); whoever records the meeting opens
    # and closes the questions
    "meetings:rsvp_online": ({"token": "token"}, EVERYONE, POST_ONLY),
    "meetings:rsvp_presence": ({"token": "token"}, POST_ONLY, EVERYONE),
    "meetings:rsvp_opinion": ({"token": "token"}, POST_ONLY, EVERYONE),
    "meetings:rsvp_ballot": ({"token": "token", "question_pk": "question"}, POST_ONLY, EVERYONE),
    "meetings:online_votes": ({"pk": "meeting"}, MINUTES_WRITE, None),
    "meetings:online_vote_close": ({"pk": "meeting", "question_pk": "question"}, POST_ONLY, MINUTES_WRITE),
    "meetings:my_tasks": ({}, EVERYONE, None),
    "meetings:my_home": ({}, HAS_MEMBER_RECORD, None),
    "meetings:cell_home": ({"cell_pk": "cell"}, MEETING_WRITE, None),
    "meetings:remind_rsvp": ({"pk": "meeting"}, POST_ONLY, MEETING_WRITE),
    "meetings:remind_documents": ({"pk": "meeting"}, POST_ONLY, MEETING_WRITE),
    "meetings:report_upward": ({"pk": "meeting"}, POST_ONLY, MEETING_WRITE),
    "meetings:task_update": ({"task_pk": "task"}, "ofoofon", None),
    # the upper level's visit plan (issue #18): the đảng ủy's staff see it (cell users do not read the
    # TCCS), its managers assign; the visitor (A's secretary, in charge of the sibling cell) confirms and
    # writes his own card, the staff who see the plan are refused, everyone else does not find it
    "meetings:visit_plan": ({"pk": "tccs"}, "ooonnnn", POST_ONLY),
    "meetings:visit_assign": ({"pk": "tccs"}, "ofonnnn", None),
    "meetings:my_visits": ({}, HAS_MEMBER_RECORD, POST_ONLY),
    "meetings:visit_confirm": ({"pk": "visit"}, POST_ONLY, "fffonnn"),
    "meetings:visit_observe": ({"pk": "visit"}, "fffonnn", None),
    # withdrawing an assignment: the plan's managers only (the empty POST withdraws the unconfirmed one)
    "meetings:visit_unassign": ({"pk": "tccs", "assignment": "visit"}, POST_ONLY, "ofonnnn"),
    # the upper level's materials (issue #17 item 5): the đảng ủy's staff follow them, its managers publish;
    # the cells of the audience (A is below the TCCS) read the file; A's secretary attaches it to A's meeting
    "meetings:materials": ({"pk": "tccs"}, "ooonnnn", POST_ONLY),
    "meetings:material_publish": ({"pk": "tccs"}, "ofonnnn", None),
    "meetings:material_detail": ({"pk": "material"}, "ooonnnn", POST_ONLY),
    "meetings:material_file": ({"pk": "material"}, "oooooon", POST_ONLY),
    "meetings:material_attach": ({"pk": "meeting", "material_pk": "material"}, POST_ONLY, MEETING_WRITE),
    # calendars: the month of a cell (its readers and members); "Lịch của tôi" needs a member record;
    # the feed is read by calendar apps with its secret address only (GET and HEAD)
    "meetings:calendar_month": ({"pk": "cell"}, CELL_AND_MEMBERS, POST_ONLY),
    "meetings:calendar_settings": ({}, HAS_MEMBER_RECORD, POST_ONLY),
    "meetings:calendar_feed_renew": ({}, POST_ONLY, HAS_MEMBER_RECORD),
    "meetings:calendar_feed_revoke": ({}, POST_ONLY, HAS_MEMBER_RECORD),
    "meetings:calendar_feed": ({"token": "feed_token"}, EVERYONE, POST_ONLY),
    # the yearly plan of thematic meetings and forums (issue #18): the cell's readers and members read it,
    # its secretary and the managers above write it; the table by cell and the bank are the upper level's
    "meetings:plan": ({"cell_pk": "cell", "year": 2026}, CELL_AND_MEMBERS, POST_ONLY),
    "meetings:plan_topic_add": ({"cell_pk": "cell", "year": 2026}, "ofooffn", None),
    "meetings:plan_topic_edit": ({"pk": "planned_topic"}, "ofooffn", None),
    "meetings:plan_topic_approve": ({"pk": "planned_topic"}, POST_ONLY, "ofooffn"),
    "meetings:plan_table": ({"pk": "tccs", "year": 2026}, "ooonnnn", POST_ONLY),
    "meetings:plan_bank": ({"pk": "tccs", "year": 2026}, "ofonnnn", None),
    # scoring/urls.py
    "scoring:index": ({}, EVERYONE, None),
    "scoring:meeting_score": ({"pk": "meeting"}, CELL_AND_MEMBERS, None),
    "scoring:prefill": ({"pk": "meeting"}, POST_ONLY, MEETING_WRITE),
    "scoring:self_score": ({"pk": "meeting"}, MEETING_WRITE, None),
    "scoring:adopt": ({"pk": "meeting"}, POST_ONLY, MEETING_WRITE),
    "scoring:confirm": ({"pk": "meeting"}, MANAGE_MEMBER, None),
    "scoring:score_sheet_pdf": ({"pk": "meeting"}, CELL_AND_MEMBERS, None),
    "scoring:cell_ratings": ({"cell_pk": "cell", "year": 2026}, CELL_READ, None),
    "scoring:ratings_open": ({"cell_pk": "cell", "year": 2026}, POST_ONLY, CELL_WRITE),
    "scoring:rating_detail": ({"pk": "rating"}, CELL_AND_MEMBERS, None),
    "scoring:rating_self": ({"pk": "rating"}, "ofoofon", None),
    "scoring:rating_propose": ({"pk": "rating"}, "ofooffn", None),
    "scoring:rating_decide": ({"pk": "rating"}, "ofofffn", None),
    "scoring:supervision": ({}, STAFF_LIST, None),
    "scoring:inspections": ({}, STAFF_LIST, None),
    "scoring:inspection_create": ({"cell_pk": "cell"}, UPPER_WRITE, None),
    "scoring:inspection_follow_up": ({"pk": "inspection"}, UPPER_WRITE, None),
    # reports/urls.py: the scope is A's đảng ủy cơ sở
    "reports:index": ({}, DASHBOARD, None),
    "reports:dashboard": ({"pk": "tccs"}, DASHBOARD, None),
    "reports:drill": ({"pk": "tccs", "metric": "regular"}, DASHBOARD, None),
    "reports:runs": ({"pk": "tccs"}, DASHBOARD, "ofofxxx"),
    "reports:runs_of_kind": ({"pk": "tccs", "kind": "annual_targets"}, DASHBOARD, "ofofxxx"),
    "reports:run_status": ({"run_pk": "run"}, DASHBOARD, None),
    "reports:run_download": ({"run_pk": "run", "file_kind": "pdf"}, DASHBOARD, None),
    # last: a restart empties the run's files
    "reports:run_restart": ({"run_pk": "run"}, POST_ONLY, "ofofxxx"),
}

ALLOWED = {"o": None, "f": {403, 405}, "n": {404}, "m": {405}, "x": {403, 404}}


def project_url_patterns(patterns=None, prefix="", namespace=""):
    """(name, route) of every pattern reachable from the root URLconf, outside the excluded prefixes."""
    found = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(EXCLUDED_PREFIXES) or route.startswith("^"):
            continue  # the admin, the language switch, static and media files
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += project_url_patterns(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            found.append((f"{namespace}{entry.name}" if entry.name else route, route))
    return found


def url_of(name, objects):
    kwargs, _, _ = MATRIX[name]
    return reverse(
        name,
        kwargs={key: objects.get(value, value) if isinstance(value, str) else value for key, value in kwargs.items()},
    )


def answer(client, method, url):
    try:
        return getattr(client, method)(url, {} if method == "post" else None), None
    except Exception as error:  # a 500: reported as a mismatch, not as a crash of the whole matrix
        return None, repr(error)


def matches(response, code, *, login_url):
    if ALLOWED[code] is None:
        return response.status_code < 400 and not (
            response.status_code in (301, 302) and response.url.startswith(login_url)
        )
    return response.status_code in ALLOWED[code]


def test_every_url_pattern_is_in_the_matrix():
    names = [name for name, _ in project_url_patterns()]
    missing = sorted(set(names) - set(MATRIX))
    assert not missing, f"add these URL patterns to MATRIX in {__file__}: {missing}"
    stale = sorted(set(MATRIX) - set(names))
    assert not stale, f"remove these names from MATRIX, their URL patterns are gone: {stale}"
    for name, (_kwargs, get, post) in MATRIX.items():
        assert len(get) == len(ROLES) and (post is None or len(post) == len(ROLES)), name


OBJECT_KEYS = {
    "cell",
    "tccs",
    "member",
    "role",
    "meeting",
    "meeting_document",
    "item",
    "task",
    "rating",
    "doctype",
    "celldoc",
    "remittance",
    "fund_entry",
    "inspection",
    "run",
    "notification",
    "position",
    "planned_topic",
    "absence_request",
    "course",
    "attendance",
    "visit",
    "material",
    "async_decision",
    "async_document",
    "question",
}


def test_the_table_answers_404_to_the_other_tenant_on_every_object_url():
    """Design §2: another tenant's object answers 404 (403 only where cell users have no dashboard at all)."""
    for name, (kwargs, get, post) in MATRIX.items():
        if not OBJECT_KEYS & set(kwargs.values()) or name in PUBLIC:
            continue  # a public page: whoever holds its secret link opens it (its objects: the link's own)
        other = {get[-1], (post or get)[-1]}
        allowed = {"n", "m"} | ({"x"} if name.startswith("reports:") else set())
        assert other <= allowed, f"{name}: the other tenant must get 404, the table says {other}"


@pytest.mark.parametrize("role", ROLES)
def test_role_gets_the_expected_answer_on_every_url(client_for, people, objects, role):
    client = client_for(getattr(people, role))
    index = ROLES.index(role)
    login_url = reverse("login")
    mismatches = []
    for method in ("get", "post"):
        for name, (_kwargs, get, post) in MATRIX.items():
            if name == "logout" and method == "post":
                continue  # would end the session for the rows after it; checked below
            code = (get if method == "get" or post is None else post)[index]
            url = url_of(name, objects)
            response, error = answer(client, method, url)
            if error or not matches(response, code, login_url=login_url):
                got = error or f"{response.status_code} {getattr(response, 'url', '')}".strip()
                mismatches.append(f"{method.upper()} {name} {url}: expected {code!r}, got {got}")
    assert client.post(reverse("logout")).status_code == 302
    assert not mismatches, f"{role}:\n" + "\n".join(mismatches)


def test_anonymous_is_sent_to_login_except_on_public_pages(client, objects):
    login_url = reverse("login")
    mismatches = []
    for name in MATRIX:
        url = url_of(name, objects)
        for method in ("get", "post"):
            response, error = answer(client, method, url)
            if error:
                mismatches.append(f"{method.upper()} {name}: {error}")
            elif name in PUBLIC:
                if response.status_code >= 500 or response.status_code == 404:
                    mismatches.append(f"{method.upper()} {name}: public page answered {response.status_code}")
            elif name == "logout":
                continue
            elif not (response.status_code == 302 and response.url.startswith(login_url)):
                mismatches.append(f"{method.upper()} {name}: expected a redirect to login, got {response.status_code}")
    assert not mismatches, "\n".join(mismatches)


def test_a_url_mixing_own_and_foreign_objects_answers_404(client_for, people, tree, objects):
    """A's secretary with A's meeting or cell in the address, and B's item, document or member after it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from meetings import services as meeting_services
    from tests.factories import make_member
    from tests.scoring.conftest import build_meeting, local

    make_member(organisation=tree.other, full_name="Đinh Văn Điện")
    foreign = build_meeting(tree.other, start=local(2026, 3, 18), tasks=[("Việc của B", [people.members["other"]])])
    foreign_document = meeting_services.meeting_document_add(
        meeting=foreign, file=SimpleUploadedFile("b.pdf", b"%PDF-1.4\n%%EOF\n")
    )
    client = client_for(people.secretary)
    for name, kwargs in [
        ("meetings:agenda_edit", {"pk": objects["meeting"], "item_pk": foreign.agenda_items.first().pk}),
        ("meetings:document_download", {"pk": objects["meeting"], "document_pk": foreign_document.pk}),
        ("books:books_commitment_paper", {"pk": objects["cell"], "member_pk": people.members["other"].pk}),
        ("meetings:task_update", {"task_pk": foreign.tasks.get().pk}),
    ]:
        for method in ("get", "post"):
            assert getattr(client, method)(reverse(name, kwargs=kwargs)).status_code == 404, (name, method)
    # A's member's link with B's document (GET only: the link opens documents, it changes nothing).
    link = reverse("meetings:rsvp_document", kwargs={"token": objects["token"], "document_pk": foreign_document.pk})
    assert client.get(link).status_code == 404


@pytest.mark.parametrize("role", ["admin", "viewer", "officer"])
def test_the_roles_that_need_a_second_factor_reach_no_page_with_the_password_alone(client, people, objects, role):
    """Issue #21: signed in with the password only, every URL of the matrix (and the admin) sends them to
    enrolment; only the public pages, logout and the second factor's own pages open."""
    from cells.selectors import SECOND_FACTOR_REQUIRED_ROLES

    user = getattr(people, role)
    assert {a.role for a in user.role_assignments.all()} <= SECOND_FACTOR_REQUIRED_ROLES
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    setup = reverse("account:two_factor_setup")
    open_pages = PUBLIC | {"logout", "account:two_factor_setup", "two_factor_verify"}
    leaks = []
    for name in MATRIX:
        if name in open_pages:
            continue
        url = url_of(name, objects)
        for method in ("get", "post"):
            response, error = answer(client, method, url)
            if error or not (response.status_code == 302 and response.url.startswith(setup)):
                leaks.append(f"{method.upper()} {name}: {error or response.status_code}")
    response = client.get("/quan-tri/")
    if not response.url.startswith(setup):
        leaks.append(f"GET admin: {response.status_code}")
    assert not leaks, "\n".join(leaks)
