"""The incidents admin is read-only and keeps a report's reference hash out of sight."""

from django.contrib.admin.sites import site
from django.test import RequestFactory
from governance.incidents.models import PublicReport

def test_public_report_admin_hides_the_reference_hash(admin_user):
    ma = site._registry[PublicReport]
    req = RequestFactory().get("/"); req.user = admin_user
    assert "reference_hash" not in ma.get_fields(req) and "reference_hash" not in ma.get_readonly_fields(req)
    assert not ma.has_change_permission(req) and not ma.has_add_permission(req) and not ma.has_delete_permission(req)
