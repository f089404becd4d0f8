"""Starting a run's child process: the command of mmengine's launcher of choice, and a child that logs
to the run's log and dies with the runner.

A run's child (`python -m harness.run.worker`; never a file of tools/, so an installed harness runs too)
is started by mmengine's own launchers (plain, torchrun, srun); it dies with the runner
(PR_SET_PDEATHSIG), so no orphan keeps writing after a kill, and it imports the same harness as the
runner (the folder holding it leads PYTHONPATH).
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys

from ..paths import PACKAGE_ROOT


class Launcher:
    """Turns `<package.module> args` (run with `python -m`) into the command of mmengine's launcher of choice."""

    def __init__(self, kind: str = 'none', gpus: int = 1) -> None:
        self.kind, self.gpus = kind, gpus

    def command(self, module: str, args: list[str]) -> list[str]:
        tool = ['-m', module]
        if self.kind == 'none':
            return [sys.executable, *tool, *args]
        if self.kind == 'pytorch':
            return [
                sys.executable,
                '-m',
                'torch.distributed.run',
                f'--nproc_per_node={self.gpus}',
                f'--master_port={free_port()}',
                *tool,
                *args,
                '--launcher',
                'pytorch',
            ]
        # slurm: inside an allocation (sbatch / salloc); extra srun flags through SRUN_ARGS, like
        # mmdet's tools/slurm_train.sh. gpus=0: one CPU process (a CPU partition, the Slurm tests).
        per_node = min(max(self.gpus, 1), 8)
        gres = [f'--gres=gpu:{per_node}'] if self.gpus else []
        return [
            'srun',
            f'--ntasks={max(self.gpus, 1)}',
            f'--ntasks-per-node={per_node}',
            *gres,
            '--kill-on-bad-exit=1',
            *os.environ.get('SRUN_ARGS', '').split(),
            sys.executable,
            '-u',
            *tool,
            *args,
            '--launcher',
            'slurm',
        ]


def terminate(proc):
    """Pass SIGTERM on to a child. An `srun` child inside a Slurm job is not signalled itself: srun
    answers SIGTERM by killing its tasks at once, before tools/train.py has saved its checkpoint
    (seen on Slurm 22.05). The job's steps get it instead (`scancel --signal=TERM JOB`: every step, not
    the batch script; the job's state does not change), as Slurm itself delivers a preemption. Only in a
    batch job (sbatch sets ENVIRONMENT=BATCH), whose steps are all the runner's; under salloc one of
    them could be the user's own shell."""
    if proc.poll() is not None:
        return
    job = os.environ.get('SLURM_JOB_ID')
    if job and os.environ.get('ENVIRONMENT') == 'BATCH' and proc.args and proc.args[0] == 'srun':
        subprocess.run(['scancel', '--signal=TERM', job], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    else:
        proc.send_signal(signal.SIGTERM)


def child_env():
    """The runner's environment, with unbuffered output (log lines as they happen) and `python_path()`."""
    return dict(os.environ, PYTHONUNBUFFERED='1', PYTHONPATH=python_path())


def python_path():
    """PYTHONPATH with the folder holding this `harness` first: `python -m harness...` in a child (or a Slurm
    job) imports the same harness as the runner."""
    path = [str(PACKAGE_ROOT)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]
    return os.pathsep.join(dict.fromkeys(path))


def free_port():
    """A TCP port free on this machine now (for a rendezvous: torchrun's, or rank 0's under srun)."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _die_with_parent(parent):
    """preexec_fn: the child gets SIGKILL when the runner dies, so no orphan keeps writing. A runner
    that died between fork and prctl is seen as a changed parent pid: the child leaves at once."""
    ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


def run_child(cmd, log_path, verbose, started=None, on_line=None):
    """Run `cmd`, its output appended to `log_path` (and echoed if verbose); `started(proc)` is called
    once it runs, `on_line(line)` for each line of its output. Returns (exit code, the message of its last
    `error: ` line or '')."""
    parent = os.getpid()
    with open(log_path, 'a', buffering=1) as log:  # line-buffered: a killed runner loses no log line
        log.write(f'\n$ {" ".join(cmd)}\n')
        log.flush()
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=os.getcwd(),
            preexec_fn=lambda: _die_with_parent(parent),
            bufsize=1,
            env=child_env(),
        )
        if started is not None:
            started(proc)
        last_error = ''
        for line in proc.stdout:
            log.write(line)
            if verbose:
                sys.stdout.write(line)
            if on_line is not None:
                on_line(line)
            if line.startswith('error: '):
                last_error = line[len('error: ') :].strip()
        return proc.wait(), last_error
