"""URL patterns owned by one feature; included from governance/urls.py."""

urlpatterns = []
