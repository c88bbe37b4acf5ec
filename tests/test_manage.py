"""manage.py under production settings without SECRET_KEY: every command stops at once with the settings' message."""

import pytest

from tests.test_settings import run_manage

MESSAGE = "SECRET_KEY must be set when DEBUG is off."


@pytest.mark.parametrize(
    "command",
    [
        ["makemigrations"],
        ["makemigrations", "--check", "--dry-run"],
        ["migrate", "--noinput"],
        ["check"],
        ["shell", "-c", "pass"],
        ["load_demo"],  # a project command: unknown to Django until the settings load
        ["createsuperuser", "--noinput"],  # a contrib command
    ],
)
@pytest.mark.parametrize("debug", [None, "0"])
def test_command_without_secret_key_exits_with_the_settings_message(command, debug):
    env = {"SECRET_KEY": ""} if debug is None else {"SECRET_KEY": "", "DEBUG": debug}
    result = run_manage(*command, **env)
    assert result.returncode != 0
    assert result.stderr.strip() == MESSAGE
    assert result.stdout == ""
