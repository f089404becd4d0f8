"""Cheap checks of checkpoint files before a runner spends minutes building a model around them, and the
checkpoint a killed run resumes from.

mmengine's `CheckpointHook` deletes the oldest checkpoint (`max_keep_ckpts`) *before* writing the new
one and rewrites `last_checkpoint` in place, and `torch.save` writes the final file name directly: a
kill at the wrong moment leaves `last_checkpoint` naming a deleted file, or an empty `last_checkpoint`,
or a truncated `iter_k.pth`. mmengine's auto-resume then fails on every rerun. `resume_point` falls
back to the newest complete checkpoint in the work dir instead (or to a fresh start).
"""

import os
import re
import zipfile

from .errors import ConfigError


def check_checkpoint(path, what='checkpoint'):
    """A missing, empty or truncated torch checkpoint raises ConfigError naming the file.

    torch.save writes a zip archive; its central directory sits at the end of the file, so a
    truncated or overwritten checkpoint fails `zipfile` at once, without unpickling anything.
    """
    path = os.fspath(path)
    if path.startswith(('http://', 'https://', 'torchvision://', 'open-mmlab://', 'mmcls://')):
        return
    if not os.path.isfile(path):
        raise ConfigError(
            f'{what} {path}: file not found; expected a checkpoint file written by torch.save '
            '(e.g. WORK_DIR/iter_<n>.pth)'
        )
    try:
        with zipfile.ZipFile(path) as z:
            if not any(n.endswith('data.pkl') for n in z.namelist()):
                raise zipfile.BadZipFile('no data.pkl')
    except (zipfile.BadZipFile, OSError) as e:
        raise ConfigError(
            f'{what} {path}: not a readable torch checkpoint ({e}); expected a file written by '
            'torch.save (re-download it, or delete it to retrain)'
        ) from e


_CKPT_NAME = re.compile(r'(?:iter|epoch)_(\d+)\.pth$')


def is_readable(path):
    try:
        check_checkpoint(path)
    except ConfigError:
        return False
    return True


def resume_point(work_dir):
    """(checkpoint or None, note): what `last_checkpoint` in `work_dir` names if that file is a complete
    checkpoint, else the complete `iter_*.pth` / `epoch_*.pth` with the highest number, else None.
    `note` says why `last_checkpoint` was not used ('' when it was, or when there is none)."""
    try:
        with open(os.path.join(work_dir, 'last_checkpoint')) as f:
            named = f.read().strip()
    except OSError:
        named = None
    if named and is_readable(named):
        return named, ''
    note = '' if named is None else f'last_checkpoint names {named or "nothing"}, which is not a complete checkpoint'
    try:
        names = os.listdir(work_dir)
    except OSError:
        names = []
    found = sorted(((int(m.group(1)), n) for n in names if (m := _CKPT_NAME.fullmatch(n))), reverse=True)
    for _, name in found:
        path = os.path.join(work_dir, name)
        if is_readable(path):
            return path, note
    return None, note
