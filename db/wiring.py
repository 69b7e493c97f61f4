"""The one place that connects areas.

An area that lets others add to it keeps an empty list (a hook) and reads it; this
module lists, explicitly, what goes into each hook, and `connect()` fills them. Nothing
registers itself as a side effect of being imported. `db/__init__.py` calls `connect()`,
so every entry point (pages, manage.py, the tests, the benchmark) sees one wiring.

This module may import every area; no area imports it.
"""

from db.cases.retention import note_erasure_request
from db.cases.review import case_audience
from db.cases.timeline import cases_source
from db.consent import erasure, self_service
from db.consent.erasure import erased_identifiers, erased_identifiers_of_rows
from db.consent.marketing import check_marketing_consent
from db.consent.timeline import consent_source
from db.experience import moments
from db.experience.customer_feedback import detractor_source
from db.imports import kinds
from db.imports.contacts import CONTACTS_KIND
from db.imports.deals import DEALS_KIND
from db.imports.employees import EMPLOYEES_KIND
from db.imports.interactions import INTERACTIONS_KIND
from db.imports.rows import ORGANIZATIONS_KIND
from db.integrations import mail_sync, notifications, worker
from db.people import contacts, interactions, timeline
from db.pipeline import commands as pipeline_commands
from db.surveys import schedule as survey_schedule
from db.surveys.timeline import survey_answers_source

# Contact 360: every source of items about a person, merged by the timeline.
TIMELINE_SOURCES: list[timeline.TimelineSource] = [
    timeline.interactions_source,
    timeline.deal_changes_source,
    timeline.tasks_source,
    consent_source,
    cases_source,
    survey_answers_source,
]

# Run on every contact created or edited: erased people are not entered again by hand.
CONTACT_CHECKS: list[contacts.ContactCheck] = [erased_identifiers]

# Run before an interaction is saved; each may refuse it with a domain error.
INTERACTION_CHECKS: list[interactions.InteractionCheck] = [check_marketing_consent]

# Import: the kinds of record a file can hold.
IMPORT_KINDS: list[kinds.Kind] = [
    ORGANIZATIONS_KIND,
    CONTACTS_KIND,
    DEALS_KIND,
    INTERACTIONS_KIND,
    EMPLOYEES_KIND,
]

# Import: checks that refuse a row (erased people stay erased), each with its
# many-rows form for chunked imports.
SUPPRESSION_CHECKS: dict[kinds.SuppressionCheck, kinds.ChunkSuppressionCheck] = {
    erased_identifiers: erased_identifiers_of_rows,
}

# Erasure: the cases area keeps its records (exempt) and tells their reviewers.
ERASURE_HOOKS: list[erasure.ErasureHook] = [note_erasure_request]

# Customer experience: sources of moments that matter.
MOMENT_SOURCES: list[moments.MomentSource] = [
    moments.negative_interactions,
    moments.service_concerns,
    detractor_source,
]

# The worker: one pass of each job, in this order (a new job is one more line).
WORKER_JOBS: list[worker.Job] = [
    worker.Job("deadlines", worker.scan_deadlines),
    worker.Job("events", worker.dispatch_events),
    worker.Job("webhooks", worker.send_webhooks),
    worker.Job("notifications", worker.send_notification_emails),
    worker.Job("mail", mail_sync.sync_job),
    worker.Job("codes", self_service.forget_expired_codes),
    worker.Job("survey-schedule", survey_schedule.schedule_job),
]

# Notifications: who may be told about an entity (a case: its readers, never an
# excluded reviewer).
NOTIFICATION_AUDIENCES: dict[str, notifications.Audience] = {"case": case_audience}


# A record linked to a deal: the pipeline area checks the link and notes the activity.
DEAL_LINK_CHECKS: list[interactions.DealLinkCheck] = [pipeline_commands.check_deal_link]
DEAL_ACTIVITY: list[interactions.DealActivity] = [pipeline_commands.note_deal_activity]


def connect() -> None:
    """Fill every area's hooks from the lists above (idempotent)."""
    timeline.TIMELINE_SOURCES[:] = TIMELINE_SOURCES
    contacts.CONTACT_CHECKS[:] = CONTACT_CHECKS
    interactions.INTERACTION_CHECKS[:] = INTERACTION_CHECKS
    interactions.DEAL_LINK_CHECKS[:] = DEAL_LINK_CHECKS
    interactions.DEAL_ACTIVITY[:] = DEAL_ACTIVITY
    kinds.KINDS.clear()
    kinds.KINDS.update({kind.name: kind for kind in IMPORT_KINDS})
    kinds.SUPPRESSION_CHECKS[:] = list(SUPPRESSION_CHECKS)
    kinds.CHUNK_SUPPRESSION_CHECKS.clear()
    kinds.CHUNK_SUPPRESSION_CHECKS.update(SUPPRESSION_CHECKS)
    moments.MOMENT_SOURCES[:] = MOMENT_SOURCES
    erasure.ERASURE_HOOKS[:] = ERASURE_HOOKS
    worker.JOBS[:] = WORKER_JOBS
    notifications.AUDIENCES.clear()
    notifications.AUDIENCES.update(NOTIFICATION_AUDIENCES)
