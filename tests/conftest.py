"""Make the repository's plugins importable the way Ansible loads them.

Modules import ``ansible.module_utils.govops_checks``; Ansible finds that file
through ansible.cfg's ``module_utils`` path. Here the same file is registered
under that name, so the tests exercise the exact code the modules ship.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PLUGINS = REPO / "plugins"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


# govops_checks first: the other module_utils build on it.
for _util in sorted((PLUGINS / "module_utils").glob("*.py"), key=lambda p: (p.stem != "govops_checks", p.stem)):
    _load(f"ansible.module_utils.{_util.stem}", _util)


def load_plugin(kind: str, name: str):
    """Import plugins/<kind>/<name>.py as a module (kind: modules, filter, callback)."""
    return _load(f"govops_{kind}_{name}", PLUGINS / kind / f"{name}.py")


@pytest.fixture
def plugin():
    return load_plugin


@pytest.fixture
def repo():
    return REPO
