"""The `probe:` key of a grid file: whether and how the position probe runs on every trained backbone.

`probe: true` takes `PROBE_DEFAULTS` (the run's training size, its own val images, seed 0); a mapping
sets any of `size` ([h, w], one integer for a square, or 'trained'), `images` ('val', 'synthetic' or
a folder, or a list of them), `seeds` and `max_images`. A mixin of the grid file parser, so that its
errors read like every other field's: `<file>: probe.<field>: <what>; expected <what>`.
"""

import copy

from .spec import PROBE_DEFAULTS, _show

PROBE_KEYS = tuple(PROBE_DEFAULTS)
PROBE_SOURCES = ('val', 'synthetic')


class ProbeFields:
    """Needs the parser's `fail`, `_mapping`, `_keys`, `_str_list`, `_seeds` and `root`."""

    def _probe(self, raw):
        """`probe: true | false | {size, images, seeds, max_images}` -> settings (PROBE_DEFAULTS filled in) or None."""
        if isinstance(raw, bool):
            return copy.deepcopy(PROBE_DEFAULTS) if raw else None
        self._mapping(raw, 'probe', 'true, false, or a mapping like {size: [128, 128], images: val, seeds: [0, 1, 2]}')
        self._keys(raw, 'probe', PROBE_KEYS)
        out = copy.deepcopy(PROBE_DEFAULTS)
        size = raw.get('size')
        if isinstance(size, int) and not isinstance(size, bool):
            size = [size, size]
        if size not in (None, 'trained'):
            if not (
                isinstance(size, list)
                and len(size) == 2
                and all(isinstance(s, int) and not isinstance(s, bool) and s >= 8 for s in size)
            ):
                self.fail(
                    'probe.size',
                    f'got {_show(size)}',
                    '[height, width] in pixels (each at least 8), one '
                    "integer for a square, or 'trained' (the default: the size the run trains at)",
                )
            out['size'] = list(size)
        if 'images' in raw:
            images = raw['images']
            images = self._str_list([images] if isinstance(images, str) else images, 'probe.images', False)
            out['images'] = [
                self._probe_source(x, f'probe.images[{i}]' if isinstance(raw['images'], list) else 'probe.images')
                for i, x in enumerate(images)
            ]
        if 'seeds' in raw:
            out['seeds'] = self._seeds(raw['seeds'], 'probe.seeds')
        if 'max_images' in raw:
            n = raw['max_images']
            if isinstance(n, bool) or not isinstance(n, int) or n < 2:
                self.fail(
                    'probe.max_images',
                    f'got {_show(n)}',
                    'an integer of at least 2 (one image to train the read-out, one to test it)',
                )
            out['max_images'] = n
        return out

    def _probe_source(self, value, where):
        if value in PROBE_SOURCES:
            return value
        folder = (self.root / value).resolve()
        if not folder.is_dir():
            self.fail(
                where,
                f'{value!r} is neither val nor synthetic, and no such folder (resolved to {folder})',
                "val (the grid's own val images), synthetic (black / white / noise images) or a folder of "
                f'jpg / png images (relative paths are taken from {self.root})',
            )
        return str(folder)
