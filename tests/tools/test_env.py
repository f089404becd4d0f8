"""tools/run_ablation.sh and tools/test.sh bring up their environment themselves (tools/env.sh): tools/setup.sh
runs when .venv is missing or stale (tools/setup.sh or setup.py changed since it last ran), and only then.

The real set-up takes minutes, so the scripts run in a copy of the repository's shell layer whose
tools/setup.sh is a stand-in: it records each call, makes a .venv/bin/python that prints its arguments,
and writes the stamp as the real one does (its last step).
"""

import shutil
import subprocess

import pytest

from harness.paths import REPO_ROOT

FAKE_SETUP = """#!/usr/bin/env bash
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
echo call >> "$ROOT/setup-calls"
[ -z "${FAIL_SETUP:-}" ] || { echo 'setup: error: could not build' >&2; exit 1; }
mkdir -p "$ROOT/.venv/bin"
printf '#!/usr/bin/env bash\\necho "python $*"\\n' > "$ROOT/.venv/bin/python"
chmod +x "$ROOT/.venv/bin/python"
source "$ROOT/tools/env.sh"
setup_stamp > "$ROOT/.venv/.setup-stamp"
"""


@pytest.fixture
def checkout(tmp_path):
    (tmp_path / 'tools').mkdir()
    for name in ('env.sh', 'run_ablation.sh', 'test.sh'):
        shutil.copy(REPO_ROOT / 'tools' / name, tmp_path / 'tools' / name)
    (tmp_path / 'tools' / 'setup.sh').write_text(FAKE_SETUP)
    (tmp_path / 'setup.py').write_text('# v1\n')
    return tmp_path


def _run(checkout, script, *args, **env):
    import os

    environ = {k: v for k, v in os.environ.items() if k != 'HARNESS_PYTHON'}
    return subprocess.run(
        ['bash', str(checkout / 'tools' / script), *args],
        capture_output=True,
        text=True,
        env=dict(environ, **env),
        timeout=60,
    )


def _calls(checkout):
    path = checkout / 'setup-calls'
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_setup_runs_when_missing_or_stale_and_only_then(checkout):
    proc = _run(checkout, 'test.sh', '-k', 'padding')
    assert proc.returncode == 0, proc.stderr
    assert 'no environment yet' in proc.stdout and proc.stdout.splitlines()[-1] == 'python -m pytest -k padding'
    assert _calls(checkout) == 1
    proc = _run(checkout, 'run_ablation.sh', '--status')  # up to date: no set-up, straight to the job
    assert proc.stdout.splitlines() == [f'python {checkout}/tools/run_ablation.py --status'] and _calls(checkout) == 1
    (checkout / 'setup.py').write_text('# v2: another dependency\n')
    proc = _run(checkout, 'run_ablation.sh')
    assert 'older than tools/setup.sh / setup.py' in proc.stdout and _calls(checkout) == 2
    _run(checkout, 'test.sh')
    assert _calls(checkout) == 2


def test_failed_setup_stops_the_command_with_one_error_line(checkout):
    proc = _run(checkout, 'run_ablation.sh', FAIL_SETUP='1')
    assert proc.returncode == 1 and 'python' not in proc.stdout.replace('no environment', '')
    assert proc.stderr.splitlines()[-1].startswith('run_ablation: error: tools/setup.sh failed')


def test_harness_python_is_used_as_it_is(checkout, tmp_path):
    python = tmp_path / 'mypython'
    python.write_text('#!/usr/bin/env bash\necho "mine $*"\n')
    python.chmod(0o755)
    proc = _run(checkout, 'test.sh', '-x', HARNESS_PYTHON=str(python))
    checks = ['mine -m ruff check .', 'mine -m ruff format --check .', 'mine -m mypy']  # then the tests
    assert proc.stdout.splitlines() == checks + ['mine -m pytest -x'] and _calls(checkout) == 0
    proc = _run(checkout, 'test.sh', HARNESS_PYTHON=str(tmp_path / 'nope'))
    assert proc.returncode == 2 and proc.stderr.startswith('test: error: HARNESS_PYTHON=') and _calls(checkout) == 0
