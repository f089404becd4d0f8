"""Cheap checks of checkpoint files before a runner spends minutes building a model around them."""
import os
import zipfile

from .errors import ConfigError


def check_checkpoint(path, what='checkpoint'):
    """A missing, empty or truncated torch checkpoint raises ConfigError naming the file.

    torch.save writes a zip archive; its central directory sits at the end of the file, so a
    truncated or overwritten checkpoint fails `zipfile` at once, without unpickling anything.
    """
    if path.startswith(('http://', 'https://', 'torchvision://', 'open-mmlab://', 'mmcls://')):
        return
    if not os.path.isfile(path):
        raise ConfigError(f'{what} {path}: file not found')
    try:
        with zipfile.ZipFile(path) as z:
            if not any(n.endswith('data.pkl') for n in z.namelist()):
                raise zipfile.BadZipFile('no data.pkl')
    except (zipfile.BadZipFile, OSError) as e:
        raise ConfigError(f'{what} {path}: not a readable torch checkpoint ({e}); expected a file written by '
                          'torch.save (re-download it, or delete it to retrain)')
