"""`manage.py check --deploy` with the production settings of deploy/README.md: no security warning."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def check_deploy(tmp_path, *args, **env) -> subprocess.CompletedProcess:
    production = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "governance.example.org",
        "VAR_DIR": str(tmp_path), **env,
    }
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", *args], cwd=ROOT, env=production,
                          capture_output=True, text=True, timeout=300)


def test_the_production_settings_pass_the_deploy_checks(tmp_path):
    done = check_deploy(tmp_path, "--tag", "security", "--fail-level", "WARNING")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout


def test_turning_hsts_or_the_redirect_off_is_a_warning_again(tmp_path):
    # The settings are the environment's: a setup that needs plain HTTP says so, and the check says what it costs.
    done = check_deploy(tmp_path, "--tag", "security", SECURE_HSTS_SECONDS="0", SECURE_SSL_REDIRECT="false")
    assert "security.W004" in done.stderr and "security.W008" in done.stderr
