"""scripts/stages.py's pytest section: the test files by summed time, with their CPU from the
``cpu_s`` property tests/conftest.py records per test."""

from __future__ import annotations

from pathlib import Path

import pytest
import script_module  # tests/

ROOT = Path(__file__).resolve().parent.parent
stages = script_module.load("stages_under_test", ROOT / "scripts" / "stages.py")

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" tests="3">
<testcase classname="tests.test_a" name="t1" time="2.0">
  <properties><property name="cpu_s" value="1.500" /></properties></testcase>
<testcase classname="tests.test_a" name="t2" time="1.0">
  <properties><property name="cpu_s" value="0.250" /></properties></testcase>
<testcase classname="tests.test_b" name="t3" time="5.0" />
</testsuite></testsuites>
"""


def test_files_are_ranked_by_time_with_their_summed_cpu(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT)
    assert stages.pytest_files(junit) == [("tests/test_b.py", 5.0, None, 1),
                                          ("tests/test_a.py", 3.0, 1.75, 2)]


def test_the_table_prints_cpu_where_recorded(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT)
    assert stages.table([("pytest", 8.0, 0.5, 0, 100.0)], None, None, junit) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any("3.0 s" in line and "1.8 s CPU" in line and "tests/test_a.py" in line
               for line in lines), lines
    assert any("5.0 s" in line and "tests/test_b.py" in line and "CPU" not in line
               for line in lines), lines


def test_each_test_of_this_run_has_its_cpu_recorded(request: pytest.FixtureRequest) -> None:
    """conftest's hooks give the property at teardown; here, before it, none is there yet,
    and the setup's starting figure is."""
    from conftest import _CPU_AT_SETUP, CPU_PROPERTY

    assert _CPU_AT_SETUP in request.node.stash
    assert CPU_PROPERTY not in dict(request.node.user_properties)
