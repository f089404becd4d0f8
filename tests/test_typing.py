"""Every public name of harness/ (what a package's `__init__` offers) is a typed function, or a class whose
public methods are typed: mypy (run by tools/test.sh, settings in pyproject.toml) checks the bodies of
typed functions only, so an untyped public function would silently leave the check."""

import ast

from harness.paths import REPO_ROOT


def _exports():
    """(package, submodule, attribute) of every name the packages' lazy `__init__`s offer."""
    for init in sorted((REPO_ROOT / 'harness').rglob('__init__.py')):
        for node in ast.walk(ast.parse(init.read_text(encoding='utf-8'))):
            if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == 'lazy_exports':
                for module, names in ast.literal_eval(node.args[1]).items():
                    for name in names:
                        yield init.parent, module, name.split(' as ')[0]


def _untyped(fn, method=False):
    args = fn.args.posonlyargs + fn.args.args + fn.args.kwonlyargs + [a for a in (fn.args.vararg, fn.args.kwarg) if a]
    args = args[1:] if method and not any(getattr(d, 'id', '') == 'staticmethod' for d in fn.decorator_list) else args
    return any(a.annotation is None for a in args) or (fn.returns is None and fn.name != '__init__')


def test_every_exported_function_and_public_method_is_typed():
    missing = []
    for package, module, name in _exports():
        path = package.joinpath(*module.split('.')).with_suffix('.py')
        defs = {
            n.name: n
            for n in ast.parse(path.read_text(encoding='utf-8')).body
            if isinstance(n, (ast.FunctionDef, ast.ClassDef))
        }
        node = defs.get(name)
        if isinstance(node, ast.FunctionDef) and _untyped(node):
            missing.append(f'{path.relative_to(REPO_ROOT)}:{node.lineno} {name}')
        elif isinstance(node, ast.ClassDef):
            missing += [
                f'{path.relative_to(REPO_ROOT)}:{m.lineno} {name}.{m.name}'
                for m in node.body
                if isinstance(m, ast.FunctionDef)
                and (not m.name.startswith('_') or m.name == '__init__')
                and _untyped(m, method=True)
            ]
    assert not missing, 'untyped public functions:\n' + '\n'.join(missing)
