"""`make demo` says at once when its address is taken, before minutes of setup."""

import socket

import pytest
from django.core.management import CommandError, call_command


def test_a_taken_port_is_reported_before_any_setup(monkeypatch):
    import governance.demo.management.commands.demo as demo

    monkeypatch.setattr(demo, "demo_setup", lambda **_: pytest.fail("setup ran"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        addrport = f"127.0.0.1:{taken.getsockname()[1]}"
        with pytest.raises(CommandError, match=f"{addrport} is already in use.*make demo ADDRPORT="):
            call_command("demo", addrport=addrport)
