"""Loading a tools/*.py script as a fresh module, the way tests call a CLI's `main` in-process (tools/ is no
package: its scripts are entry points run by path)."""

import importlib.util

from harness.paths import REPO_ROOT


def load_tool(name):
    spec = importlib.util.spec_from_file_location(f'tool_{name}', REPO_ROOT / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
