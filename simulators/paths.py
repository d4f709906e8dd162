"""Where the simulated Odoo and the addon live, and the guard against shadowing a real Odoo.

`src/odoo` is the simulated Odoo. It is deliberately not installed: a package named `odoo` must
never shadow a real one. So the simulators put `<repo>/src` on the path of the processes they
start, and refuse to run when some other `odoo` is importable (a real Odoo in this environment).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src"
SIM_ODOO = SRC / "odoo"
ADDONS = REPO / "addon"
LEGACY_ADDONS = Path(__file__).resolve().parent / "legacy_addons"


class OdooShadowError(RuntimeError):
    """A real Odoo (or anything else named `odoo`) is importable: refuse to mix it with ours."""


def _is_ours(origin: str | None) -> bool:
    if not origin:
        return False
    try:
        return Path(origin).resolve().parent == SIM_ODOO.resolve()
    except OSError:
        return False


def _same_dir(entry: str, directory: Path) -> bool:
    try:
        return Path(entry or ".").resolve() == directory.resolve()
    except OSError:
        return False


def _other_odoo_spec():
    """The spec of an `odoo` package found anywhere but `<repo>/src`, or None.

    Every import finder is asked with `<repo>/src` taken off sys.path, so a real Odoo is found
    even when PYTHONPATH puts the simulated one first (which would otherwise hide it).
    """
    saved = sys.path[:]
    try:
        sys.path[:] = [entry for entry in saved if not _same_dir(entry, SRC)]
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            try:
                spec = find_spec("odoo", None)
            except Exception:  # noqa: BLE001 - a broken third-party finder must not stop us
                continue
            if spec is not None and not _is_ours(spec.origin):
                return spec
    finally:
        sys.path[:] = saved
    return None


def check_no_real_odoo() -> None:
    """Raise OdooShadowError if any `odoo` other than the simulated one of this repo is importable."""
    if not (SIM_ODOO / "__init__.py").is_file():
        raise OdooShadowError(
            f"the simulated Odoo is missing: {SIM_ODOO} (run the simulators from a source checkout)")
    loaded = sys.modules.get("odoo")
    if loaded is not None and not _is_ours(getattr(loaded, "__file__", None)):
        raise OdooShadowError(
            f"a different package named 'odoo' is already imported ({loaded.__file__}); the "
            f"simulators run the simulated Odoo from {SIM_ODOO} and never mix it with a real Odoo")
    spec = _other_odoo_spec()
    if spec is not None:
        where = spec.origin or ", ".join(spec.submodule_search_locations or [])
        raise OdooShadowError(
            f"a different package named 'odoo' is importable here ({where}): the simulators run "
            f"the simulated Odoo from {SIM_ODOO} and refuse to run beside a real Odoo. Use an "
            "environment without Odoo installed (e.g. the project's tox or venv)")


def ensure_src_on_path() -> None:
    """Check, then make `import odoo` find the simulated Odoo in this process."""
    check_no_real_odoo()
    for path in (str(SRC), str(REPO)):
        if path not in sys.path:
            sys.path.insert(0, path)


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """os.environ for a simulator subprocess: `<repo>/src` and `<repo>` first on PYTHONPATH."""
    env = dict(os.environ)
    parts = [str(SRC), str(REPO)]
    parts += [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p not in parts]
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env.setdefault("PYTHONUNBUFFERED", "1")
    if extra:
        env.update(extra)
    return env
