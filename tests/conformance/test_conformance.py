"""The official MCP conformance suite against POST /mcp/v1 (docs/conformance.md): one run per
spec revision the endpoint serves, each judged against its expected-failures file."""

import os
from pathlib import Path

import pytest

from . import suite

HERE = Path(__file__).resolve().parent
REVISIONS = ("2025-11-25", "2026-07-28")
RUN_TIMEOUT = 150  # seconds per revision; a run takes a few


def _unavailable(reason):
    if os.environ.get("CI"):
        pytest.fail(f"CI runs the conformance suite, and it cannot be had: {reason}")
    pytest.skip(f"conformance suite unavailable: {reason}")


@pytest.fixture(scope="session")
def conformance(tmp_path_factory):
    """(Node, path of the suite's CLI), installed once per session."""
    directory = Path(os.environ.get("CONFORMANCE_NODE_DIR")
                     or tmp_path_factory.mktemp("conformance-node"))
    try:
        node = suite.find_node()
        return node, suite.install(node, directory)
    except suite.Unavailable as error:
        _unavailable(str(error))


def _summary(output):
    start = output.rfind("=== SUMMARY ===")
    return output[start:] if start >= 0 else output[-4000:]


@pytest.mark.parametrize("revision", REVISIONS)
def test_conformance(conformance, mcp_url, revision, tmp_path):
    node, cli = conformance
    expected = HERE / f"expected-failures-{revision}.yml"
    result = suite.run(node, cli, mcp_url, revision, expected, tmp_path / "results", RUN_TIMEOUT)
    assert result.checks, f"the suite ran no check:\n{result.output[-4000:]}"
    problems = suite.judge(result, suite.read_expected_failures(expected))
    assert not problems, "\n".join(problems) + "\n\n" + _summary(result.output)
    # the suite's own verdict too (it scores only what the revision requires)
    assert result.returncode == 0, _summary(result.output)
    passed = sum(check.status == "SUCCESS" for check in result.checks)
    print(f"conformance {revision}: {len(result.scenarios())} scenarios, {len(result.checks)} checks, "
          f"{passed} passed, {len(result.failures())} failed as expected")
