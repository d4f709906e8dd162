"""The rules test_conformance.py applies to a run (no Node needed): the suite's own, for every
scenario."""

from .suite import Check, Run, judge, read_expected_failures


def run(*checks):
    return Run("2026-07-28", 0, "", [Check(*check) for check in checks])


def test_expected_failures_file_is_read_without_yaml(tmp_path):
    path = tmp_path / "x.yml"
    path.write_text("# why\nserver:\n  # reason\n  - a:b  # more\n  - c\nclient:\n  - d\n")
    assert read_expected_failures(path) == ["a:b", "c"]


def test_rules():
    result = run(("a", "x", "FAILURE"), ("a", "y", "SUCCESS"), ("b", "z", "WARNING"),
                 ("c", "w", "SUCCESS"), ("d", "v", "SKIPPED"))
    assert judge(result, ["a:x", "b"]) == []
    assert judge(result, ["a:x", "b", "d:v"]) == []  # a listed check that is skipped: tolerated
    problems = judge(result, ["a:x"])
    assert len(problems) == 1 and problems[0].startswith("unexpected WARNING b:z")
    assert judge(result, ["a:x", "b", "a:y"]) == ["stale expected failure a:y: it passes now, "
                                                  "remove the entry"]
    assert judge(result, ["a:x", "b", "c"])[0].startswith("stale expected failure c")
    assert judge(result, ["a:x", "b", "e"]) == ["expected failure e: the scenario did not run"]
