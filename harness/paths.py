"""Where the checkout is: grids name base configs relative to it, and reports and tools live in it."""
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
