"""The `escalation app` command's input checks (the page itself is tested in test_app.py)."""

from sim.cli import main


def test_app_refuses_a_missing_scenario(capsys):
    assert main(["app", "no_such_scenario", "--port", "8799"]) == 2
    err = capsys.readouterr().err
    assert "no_such_scenario" in err and "baseline" in err and "Traceback" not in err


def test_app_refuses_a_bad_port(capsys):
    assert main(["app", "baseline", "--port", "70000"]) == 2
    assert "1 to 65535" in capsys.readouterr().err
