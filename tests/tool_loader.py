"""Import a CLI from tools/ as a module: the tools are scripts (`parse_args()` + `main()`), not a package."""
from harness.paths import REPO_ROOT, import_file


def load_tool(name):
    """tools/<name>.py as a fresh module object."""
    return import_file(REPO_ROOT / 'tools' / f'{name}.py', f'tool_{name}')
