"""`run_and_exit` (harness/run/cli.py), every tool's entry point: `run_cli`'s exit codes and one-line
messages, its output flushed, and no interpreter teardown after it (an atexit handler does not run)."""

import os
import subprocess
import sys
import textwrap

import pytest

from harness.paths import REPO_ROOT

SCRIPT = """
import atexit, sys
from harness.errors import ConfigError, NonFiniteLossError, Preempted
from harness.run.cli import run_and_exit

atexit.register(lambda: print('teardown ran', file=sys.stderr))
def main():
    print('partial line, never flushed by the tool', end='')  # stdout is a pipe: block-buffered
{body}
run_and_exit(main)
"""
CASES = {  # name: (main's body, exit code, stderr)
    'done': ('pass', 0, ''),
    'bad input': (
        "raise ConfigError('grid.yaml: seeds: got []; expected a non-empty list')",
        2,
        'error: grid.yaml: seeds: got []; expected a non-empty list\n',
    ),
    'diverged': (
        "raise NonFiniteLossError(3, {'loss': float('nan')})",
        3,
        'error: loss is not finite at iteration 3 (loss=nan)\n',
    ),
    'preempted': ("raise Preempted('checkpointed iteration 3')", 143, 'preempted: checkpointed iteration 3\n'),
    'exit with a message': ("sys.exit('stopped')", 1, 'stopped\n'),
    'usage error': ('sys.exit(2)', 2, ''),
}


@pytest.mark.parametrize('name', list(CASES))
def test_exit_code_and_output_as_run_cli_gives_them_without_teardown(name):
    body, code, stderr = CASES[name]
    script = SCRIPT.format(body=textwrap.indent(body, '    '))
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONUNBUFFERED'}  # the runner sets it for its children
    proc = subprocess.run(
        [sys.executable, '-c', script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, env=env
    )
    assert (proc.returncode, proc.stderr) == (code, stderr)
    assert proc.stdout == 'partial line, never flushed by the tool'
