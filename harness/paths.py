"""Where the harness and its checkout are: the folder that holds the `harness` package (a child process
puts it first on PYTHONPATH, so it imports the same harness as its parent), and the checkout whose
configs/ grids name relative to it, reports/ and data/ live in (tests and tools use it too).

An installed harness (`pip install .`) is not in a checkout: relative paths are then taken from the
current directory, where the configs and data of a project are."""

from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
REPO_ROOT = PACKAGE_ROOT if (PACKAGE_ROOT / 'configs').is_dir() else Path.cwd()
