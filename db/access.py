"""Who may run each command of `db/`: the table the access tests walk.

Every public function in `db/` that takes an `actor` appears here with the roles that
may call it. Row-level rules (sales see their team's records, change their own) come on
top, inside the commands. A test calls every command as every role and fails when a
command is missing from this table, refuses a listed role, or lets an unlisted one in.
"""

from db.models.auth import Role

EVERYONE = frozenset(Role)
ADMIN = frozenset({Role.admin})
PEOPLE_READERS = frozenset({Role.admin, Role.privacy, Role.manager, Role.sales})
PEOPLE_WRITERS = frozenset({Role.admin, Role.manager, Role.sales})
PIPELINE = frozenset({Role.admin, Role.manager, Role.sales})
PIPELINE_ADMINS = frozenset({Role.admin, Role.manager})
REVIEWERS = frozenset({Role.reviewer})
CASE_INSIGHTS = frozenset({Role.reviewer, Role.manager})
HR = frozenset({Role.hr})
HR_AND_MANAGERS = frozenset({Role.hr, Role.manager})

COMMANDS: dict[str, frozenset[Role]] = {
    # auth
    "db.auth.create_user": ADMIN,
    "db.auth.update_user": ADMIN,
    "db.auth.set_roles": ADMIN,
    "db.auth.deactivate_user": ADMIN,
    "db.auth.reactivate_user": ADMIN,
    "db.auth.unlock_user": ADMIN,
    "db.auth.reset_password": ADMIN,
    "db.auth.change_own_password": EVERYONE,
    "db.auth.list_users": ADMIN,
    "db.auth.locked_users": ADMIN,
    # audit
    "db.audit.record": EVERYONE,
    "db.audit.record_view": EVERYONE,
    "db.audit.count_events": ADMIN,
    "db.audit.list_events": ADMIN,
    "db.audit.filter_choices": ADMIN,
    # people
    "db.people.create_organisation": PEOPLE_WRITERS,
    "db.people.get_organisation": PEOPLE_READERS,
    "db.people.update_organisation": PEOPLE_WRITERS,
    "db.people.find_organisations": PEOPLE_READERS,
    "db.people.create_contact": PEOPLE_WRITERS,
    "db.people.get_contact": PEOPLE_READERS,
    "db.people.update_contact": PEOPLE_WRITERS,
    "db.people.set_tags": PEOPLE_WRITERS,
    "db.people.find_contacts": PEOPLE_READERS,
    "db.interactions.log_interaction": PEOPLE_WRITERS,
    "db.interactions.list_interactions": PEOPLE_READERS,
    "db.interactions.create_task": PEOPLE_WRITERS,
    "db.interactions.complete_task": PEOPLE_WRITERS,
    "db.interactions.overdue_tasks": PEOPLE_READERS,
    "db.interactions.my_open_tasks": PEOPLE_READERS,
    # cases (reporters use the public intake and follow-up, which take no actor)
    "db.case_actions.acknowledge": REVIEWERS,
    "db.case_actions.add_note": REVIEWERS,
    "db.case_actions.change_status": REVIEWERS,
    "db.case_actions.close_case": REVIEWERS,
    "db.case_actions.message_reporter": REVIEWERS,
    "db.case_actions.reopen_case": REVIEWERS,
    "db.case_actions.set_severity": REVIEWERS,
    "db.case_common.append_event": EVERYONE,
    "db.case_common.set_category_deadlines": ADMIN,
    "db.case_insights.backlog": CASE_INSIGHTS,
    "db.case_insights.category_figures": CASE_INSIGHTS,
    "db.case_insights.outcomes": CASE_INSIGHTS,
    "db.case_insights.volumes": CASE_INSIGHTS,
    "db.case_retention.nearing_purge": REVIEWERS,
    "db.case_retention.purge_cases": ADMIN,
    "db.case_review.assign_case": REVIEWERS,
    "db.case_review.case_by_id": REVIEWERS,
    "db.case_review.claim_case": REVIEWERS,
    "db.case_review.count_queue": REVIEWERS,
    "db.case_review.exclude_reviewer": REVIEWERS,
    "db.case_review.list_queue": REVIEWERS,
    "db.case_review.list_reviewers": REVIEWERS,
    "db.case_review.open_case": REVIEWERS,
    "db.case_review.queue_summary": REVIEWERS,
    "db.case_review.visible_case": REVIEWERS,
    "db.case_welfare.due_check_ins": REVIEWERS,
    "db.case_welfare.log_check_in": REVIEWERS,
    "db.case_welfare.open_welfare_case": REVIEWERS,
    # surveys (respondents use the public answer page, which takes no actor)
    "db.employees.count_employees": HR,
    "db.employees.create_employee": HR,
    "db.employees.import_employees_csv": HR,
    "db.employees.list_employees": HR,
    "db.employees.mark_leaver": HR,
    "db.employees.org_choices": HR,
    "db.employees.update_employee": HR,
    "db.survey_answers.import_response": HR,
    "db.survey_distribution.issue_links": HR,
    "db.survey_distribution.open_survey": HR,
    "db.survey_distribution.progress": HR,
    "db.survey_distribution.send_links": HR,
    "db.surveys.add_question": HR,
    "db.surveys.close_survey": HR,
    "db.surveys.copy_to_new_wave": HR,
    "db.surveys.create_survey": HR,
    "db.surveys.remove_question": HR,
    "db.survey_actions.create_action": HR_AND_MANAGERS,
    "db.survey_actions.list_actions": HR_AND_MANAGERS,
    "db.survey_actions.set_action_status": HR_AND_MANAGERS,
    "db.survey_reports.comments": HR_AND_MANAGERS,
    "db.survey_reports.drivers": HR_AND_MANAGERS,
    "db.survey_reports.groups": HR_AND_MANAGERS,
    "db.survey_reports.heatmap": HR_AND_MANAGERS,
    "db.survey_reports.participation": HR_AND_MANAGERS,
    "db.survey_reports.results": HR_AND_MANAGERS,
    "db.survey_reports.trend": HR_AND_MANAGERS,
    "db.surveys.list_surveys": HR_AND_MANAGERS,
    # pipeline
    "db.deals.assignable_owners": PIPELINE,
    "db.deals.board": PEOPLE_READERS,
    "db.deals.deal_history": PEOPLE_READERS,
    "db.deals.deal_interactions": PEOPLE_READERS,
    "db.deals.deal_tasks": PEOPLE_READERS,
    "db.deals.find_deals": PEOPLE_READERS,
    "db.deals.rotting_deals": PEOPLE_READERS,
    "db.forecast.by_close_month": PIPELINE,
    "db.forecast.conversion_funnel": PIPELINE,
    "db.forecast.lost_reasons": PIPELINE,
    "db.forecast.outcomes": PIPELINE,
    "db.forecast.time_in_stage": PIPELINE,
    "db.pipeline.create_deal": PIPELINE,
    "db.pipeline.get_deal": PEOPLE_READERS,
    "db.pipeline.lose_deal": PIPELINE,
    "db.pipeline.move_deal": PIPELINE,
    "db.pipeline.reassign_deals": PIPELINE,
    "db.pipeline.reopen_deal": PIPELINE,
    "db.pipeline.update_deal": PIPELINE,
    "db.pipeline.win_deal": PIPELINE,
    "db.pipeline_config.add_lost_reason": PIPELINE_ADMINS,
    "db.pipeline_config.add_stage": PIPELINE_ADMINS,
    "db.pipeline_config.create_pipeline": PIPELINE_ADMINS,
    "db.pipeline_config.list_lost_reasons": PEOPLE_READERS,
    "db.pipeline_config.list_pipelines": PEOPLE_READERS,
    "db.pipeline_config.list_stages": PEOPLE_READERS,
    "db.pipeline_config.retire_lost_reason": PIPELINE_ADMINS,
    "db.pipeline_config.retire_stage": PIPELINE_ADMINS,
    "db.pipeline_config.update_stage": PIPELINE_ADMINS,
    "db.timeline.recent_on_other_channels": PEOPLE_READERS,
    "db.timeline.timeline": PEOPLE_READERS,
}
