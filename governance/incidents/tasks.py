"""Beat sends `incidents_remind` every INCIDENT_REMIND_INTERVAL (migration 0002); it only orchestrates."""

from celery import shared_task

from governance.incidents.services import reminders_send


@shared_task(name="governance.incidents_remind")
def incidents_remind() -> int:
    return reminders_send()
