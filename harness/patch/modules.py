"""Finding modules by name and swapping them: the two operations every patch in this package is made of.

Each patch (padding, CoordConv, SOLO coordinates) picks modules by name glob and replaces each with a
new module *derived* from it: same class underneath (so `isinstance` checks and `init_weights` still
work), same `weight` / `bias` objects (so checkpoints load unchanged), plus a mixin that changes
`forward`. As in detectron2's `FrozenBatchNorm2d.convert_frozen_batchnorm`, the stock module is
replaced, not mutated, and the root itself may be the module replaced.
"""

import fnmatch
from collections.abc import Sequence
from typing import Any

_DERIVED: dict[tuple[type, type], type] = {}


def matches(name: str, globs: Sequence[str]) -> bool:
    """A glob matches a module and, like a plain module name, everything below it."""
    return any(fnmatch.fnmatchcase(name, g) or fnmatch.fnmatchcase(name, g + '.*') for g in globs)


def replace_module(root: Any, name: str, new: Any) -> Any:
    """Put `new` where module `name` is below `root` and return the root (`new` itself when name is '')."""
    if not name:
        return new
    parent, _, child = name.rpartition('.')
    setattr(root.get_submodule(parent) if parent else root, child, new)
    return root


def derive_class(mixin, base):
    """The class `mixin` + `base`, created once and importable from this module (so it pickles).

    A class derived here before is flattened: a CoordConv on a padding-patched conv is
    `CoordBorderConv2d(CoordMixin, BorderMixin, Conv2d)`, not `(CoordMixin, BorderConv2d)`, so the stock
    class stays a direct base. mmengine's `init_cfg` matching (`layer='Conv2d'`, weight_init.py) looks
    at a module's class name and its *direct* bases only; a deeper stock class would be skipped and
    keep PyTorch's default init.
    """
    key = (mixin, base)
    if key not in _DERIVED:
        name = mixin.prefix + base.__name__
        bases = base.__bases__ if base in _DERIVED.values() else (base,)
        # Two stock classes may share a name (torch.nn.Conv2d, mmcv's Conv2d wrapper): the global a
        # derived class pickles under names the stock class's module unless it is torch.nn's.
        stock = bases[-1]
        qualname = name if stock.__module__.startswith('torch.nn') else f'{name}__{stock.__module__.replace(".", "_")}'
        cls = type(name, (mixin,) + bases, {'__module__': __name__, '__qualname__': qualname})
        _DERIVED[key] = globals()[qualname] = cls
    return _DERIVED[key]


def rebuild_as(module: Any, mixin: type, **attrs: Any) -> Any:
    """A new instance of `mixin` + `type(module)` sharing `module`'s parameters, buffers and children."""
    cls = derive_class(mixin, type(module))
    new = cls.__new__(cls)
    new.__dict__.update(module.__dict__)
    for key in ('_parameters', '_buffers', '_modules'):
        new.__dict__[key] = module.__dict__[key].copy()
    for key, value in attrs.items():
        setattr(new, key, value)
    return new
