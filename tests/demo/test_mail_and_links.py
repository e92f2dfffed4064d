"""In development every process writes its emails under var/mail, and the demo's links point
where the demo serves."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings


def _settings_in_a_fresh_process(env: dict) -> str:
    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'governance.settings'); "
            "django.setup(); from django.conf import settings as s; print(s.EMAIL_BACKEND, s.EMAIL_FILE_PATH)")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("EMAIL_", "DJANGO_SETTINGS"))}
    done = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


def test_development_email_lands_in_var_mail_for_every_process(tmp_path):
    out = _settings_in_a_fresh_process({"DEBUG": "1", "VAR_DIR": str(tmp_path)})
    assert out == f"django.core.mail.backends.filebased.EmailBackend {tmp_path / 'mail'}"


def test_production_email_goes_to_smtp(tmp_path):
    out = _settings_in_a_fresh_process({"DEBUG": "0", "SECRET_KEY": "x" * 50, "VAR_DIR": str(tmp_path),
                                        "ALLOWED_HOSTS": "example.org"})
    assert out.startswith("django.core.mail.backends.smtp.EmailBackend ")


def test_the_demo_links_to_the_address_it_serves(monkeypatch, settings):
    import pytest
    from django.core.management import call_command

    import governance.demo.management.commands.demo as demo

    class Stop(Exception):
        pass

    def setup(**_):
        raise Stop(settings.SITE_URL, os.environ["SITE_URL"])

    monkeypatch.delenv("SITE_URL", raising=False)
    monkeypatch.setattr(demo, "demo_setup", setup)
    monkeypatch.setattr(demo, "_check_port_free", lambda addrport: None)
    with pytest.raises(Stop) as stopped:
        call_command("demo", addrport="127.0.0.1:8123")
    assert stopped.value.args == ("http://127.0.0.1:8123", "http://127.0.0.1:8123")
    os.environ.pop("SITE_URL", None)  # monkeypatch restores the absence; the command set it
