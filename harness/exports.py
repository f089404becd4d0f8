"""A package's public names, imported when first used: why `import harness.report` loads no torch.

Each sub-package's `__init__.py` lists what it offers (name -> module) and nothing else; a name's module
is imported on first access (PEP 562 `__getattr__`), so importing a light module of a package (the grid
schema, the report) does not import the package's heavy ones (the model patcher, the mmengine hooks).
Registering the harness with mmengine is an import of its own: `harness.engine.register`.
"""

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, modules: dict[str, list[str]]
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """(`__all__`, `__getattr__`, `__dir__`) for `package`, whose public names live in `modules`
    ({submodule: [names]}; 'NAME as PUBLIC' offers a module's NAME as PUBLIC)."""
    where = {
        name.split(' as ')[-1]: (module, name.split(' as ')[0]) for module, names in modules.items() for name in names
    }

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f'module {package!r} has no attribute {name!r}')
        module, attribute = where[name]
        value = getattr(importlib.import_module(f'{package}.{module}'), attribute)
        setattr(sys.modules[package], name, value)  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(where))

    return sorted(where), __getattr__, __dir__
