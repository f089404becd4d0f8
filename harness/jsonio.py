"""Atomic writes and forgiving reads of the small files a run leaves behind (results, metrics, reports).

A killed process must leave either the old file or the whole new one, never a part: everything is
written to a temporary file in the same folder, synced, then renamed over the target (`os.replace`
is atomic on POSIX). This is the only place in the harness that writes such a file.
"""

import json
import os
import tempfile


def write_atomic(path, data):
    """Write `data` (str or bytes) to `path` atomically, readable by everyone (0644)."""
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or '.', prefix=f'.{os.path.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data.encode('utf-8') if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path, obj):
    """Write `obj` as JSON atomically."""
    write_atomic(path, json.dumps(obj, indent=1))


def read_json(path):
    """The JSON in `path`, or None if it is missing or unreadable."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
