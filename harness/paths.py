"""Where the checkout is (grids name base configs relative to it; reports, tools and tests live in it),
and importing a file of it that is not in a package (a tools/ script, tests/models.py)."""
import importlib.util
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def import_file(path, name):
    """The Python file at `path` as a fresh module called `name`."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
