from django.contrib import admin

from audits.drift.models import DriftSchedule, RetrainingRecommendation


@admin.register(DriftSchedule)
class DriftScheduleAdmin(admin.ModelAdmin):
    list_display = ["system", "version", "enabled"]
    list_filter = ["enabled"]


@admin.register(RetrainingRecommendation)
class RetrainingRecommendationAdmin(admin.ModelAdmin):
    list_display = ["version", "status", "reason", "created_at"]
    list_filter = ["status"]
    search_fields = ["version__system__slug", "reason"]
