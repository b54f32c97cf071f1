"""`quarry runs` and `quarry spend` show every principal's questions: their help says so."""

from quarry.agent.cli.main import build_parser


def test_runs_and_spend_say_they_are_the_operators_view():
    commands = next(a for a in build_parser()._actions if a.dest == "command")
    for name in ("runs", "spend"):
        sub = commands.choices[name]
        assert "operator's view" in sub.description and "operator's view" in sub.format_help()
    assert "everyone's" in {a.dest: a.help for a in commands._choices_actions}["runs"]
