"""A real one-node Slurm for the tests: munged, slurmctld and slurmd started as root from Debian's
`slurm-wlm` / `munge` (tools/setup.sh installs them where apt and root are available) with a config
and state of their own in a temporary folder, and stopped by their PIDs afterwards.

Nothing system-wide is read or touched: `SLURM_CONF` points the daemons and every client command
(sbatch, squeue, scontrol, and srun inside the jobs, which inherit the environment) at the temporary
slurm.conf; munge uses its own key and socket; the ports are free ones picked here. Settings are the
ones seen working on this kind of machine (docs/STACK.md, "Slurm"), plus two for test speed, both
stated: `cred_expire=10` (Slurm holds a requeued job for the credential lifetime, 120 s by default,
before it may start again) and `MinJobAge=3600` (finished jobs stay visible to `scontrol show job`,
whose start and end times the tests compare).
"""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ('munged', 'mungekey', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'scontrol', 'srun')


def unavailable():
    """Why a Slurm cannot be started here (None if it can be tried)."""
    if os.geteuid() != 0:
        return 'the daemons run as root (SlurmUser=root) and this is not root'
    missing = [d for d in DAEMONS if not Path(_exe(d)).exists()]
    if missing:
        return (
            f'Slurm / munge not installed ({", ".join(missing)} missing): tools/setup.sh installs slurm-wlm and '
            'munge where apt and root are available'
        )
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(('', 0))
        return s.getsockname()[1]


def _exe(name):
    """`name` on PATH, else in the `sbin` beside the folder of the Slurm clients (a daemon's folder is often
    not on a user's PATH)."""
    client = shutil.which('squeue')
    return shutil.which(name) or str(Path(client).parent.parent / 'sbin' / name if client else name)


class SlurmCluster:
    """`start()` -> ready cluster (raises RuntimeError with the daemons' logs if it does not come up); `env`
    is the environment for client commands; `stop()` cancels every job and stops the daemons."""

    def __init__(self, root):
        self.root = Path(root)
        self.procs = []
        self.host = socket.gethostname().split('.')[0]
        self.conf = self.root / 'slurm.conf'
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))

    def _conf(self):
        r = self.root
        cpus = os.cpu_count() or 1
        return '\n'.join(
            [
                'ClusterName=posharness-test',
                f'SlurmctldHost={self.host}',
                'SlurmUser=root',
                'SlurmdUser=root',
                'AuthType=auth/munge',
                'CredType=cred/munge',
                f'AuthInfo=socket={r}/munge/socket,cred_expire=10',
                f'SlurmctldPort={_free_port()}',
                f'SlurmdPort={_free_port()}',
                'ProctrackType=proctrack/linuxproc',
                'TaskPlugin=task/none',
                'SelectType=select/cons_tres',
                'SelectTypeParameters=CR_Core',
                'SchedulerType=sched/builtin',
                'ReturnToService=2',
                'JobRequeue=1',
                'MpiDefault=none',
                'JobAcctGatherType=jobacct_gather/none',
                'AccountingStorageType=accounting_storage/none',
                'MinJobAge=3600',
                'KillWait=30',
                f'StateSaveLocation={r}/state',
                f'SlurmdSpoolDir={r}/spool',
                f'SlurmctldPidFile={r}/slurmctld.pid',
                f'SlurmdPidFile={r}/slurmd.pid',
                f'SlurmctldLogFile={r}/log/slurmctld.log',
                f'SlurmdLogFile={r}/log/slurmd.log',
                f'NodeName={self.host} CPUs={cpus} RealMemory=4000 State=UNKNOWN',
                f'PartitionName=debug Nodes={self.host} Default=YES MaxTime=INFINITE State=UP',
                '',
            ]
        )

    def _spawn(self, name, args):
        out = open(self.root / 'log' / f'{name}.out', 'w')
        proc = subprocess.Popen(
            [_exe(name), *args], stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
        )
        self.procs.append(proc)
        return proc

    def start(self, timeout=30):
        r = self.root
        for sub in ('munge', 'state', 'spool', 'log'):
            (r / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(r / 'munge', 0o711)
        subprocess.run(
            [_exe('mungekey'), '--create', '--force', '--keyfile', str(r / 'munge' / 'munge.key')],
            check=True,
            capture_output=True,
        )
        self._spawn(
            'munged',
            [
                '--foreground',
                '--force',
                f'--key-file={r}/munge/munge.key',
                f'--socket={r}/munge/socket',
                f'--pid-file={r}/munge/munged.pid',
                f'--seed-file={r}/munge/seed',
                f'--log-file={r}/log/munged.log',
            ],
        )
        self.conf.write_text(self._conf())
        self._wait(lambda: (r / 'munge' / 'socket').exists(), timeout, 'munged did not create its socket')
        self._spawn('slurmctld', ['-D', '-i'])
        self._spawn('slurmd', ['-D'])
        self._wait(self._node_idle, timeout, 'the node did not become idle')
        return self

    def _node_idle(self):
        out = self.run(['sinfo', '--noheader', '--format=%T'], check=False).stdout
        return out.strip().startswith('idle')

    def _wait(self, ready, timeout, what):
        deadline = time.time() + timeout
        while not ready():
            dead = [p.args[0] for p in self.procs if p.poll() is not None]
            if dead or time.time() > deadline:
                raise RuntimeError(
                    f'{what} ({"exited: " + ", ".join(dead) if dead else f"{timeout} s"}); {self.logs()}'
                )
            time.sleep(0.2)

    def logs(self, lines=5):
        parts = []
        for f in sorted((self.root / 'log').glob('*')):
            tail = f.read_text(errors='replace').splitlines()[-lines:]
            parts.append(f'{f.name}: ' + ' | '.join(tail))
        return ' ;; '.join(parts)

    def run(self, cmd, check=True):
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=check, timeout=60)

    def jobs(self):
        """[(job id, state)] of every job in the queue, array elements one by one."""
        out = self.run(['squeue', '--noheader', '--array', '--format=%i %T'], check=False).stdout
        return [tuple(line.split()) for line in out.splitlines() if line.strip()]

    def job(self, job_id):
        """`scontrol show job` as a dict (finished jobs stay MinJobAge seconds)."""
        out = self.run(['scontrol', 'show', 'job', '--oneliner', str(job_id)]).stdout
        return dict(w.split('=', 1) for w in out.split() if '=' in w)

    def stop(self):
        if any(p.poll() is None for p in self.procs[1:]):
            self.run(['scancel', '--full', '--user=root'], check=False)
            deadline = time.time() + 40  # KillWait 30 s: then every job's processes are gone
            while self.jobs() and time.time() < deadline:
                time.sleep(0.5)
        for proc in reversed(self.procs):  # slurmd, slurmctld, munged: by their own PIDs
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
