"""Imports run one way: every module of harness/ imports only from its own floor or below, never from
inside a function either, and no import circle exists (docs/ARCHITECTURE.md has the floors). And the
light floors stay light: `import harness` and `import harness.report` load no torch, mmengine or mmdet.

The import graph is read with `ast` from the source (every `import` / `from ... import`, at any depth),
so a violation fails here before it can hide behind a lazy import."""

import ast
import subprocess
import sys

import pytest

from harness.paths import REPO_ROOT

# Bottom to top. A module's floor is that of the longest entry its name starts with.
FLOORS = [
    (
        'shared utilities',
        [
            'harness',
            'harness.errors',
            'harness.paths',
            'harness.jsonio',
            'harness.exports',
            'harness.compat',
            'harness.configs',
            'harness.checkpoints',
        ],
    ),
    ('patch', ['harness.patch']),
    ('data', ['harness.data']),
    ('evaluation / diagnose', ['harness.evaluation', 'harness.diagnose']),
    ('engine', ['harness.engine']),
    ('grid', ['harness.grid']),
    ('run', ['harness.run']),
    ('launch', ['harness.launch']),
    ('report', ['harness.report']),
    ('commands / test toolkit', ['harness.commands', 'harness.testing']),
]
HEAVY = ('torch', 'mmengine', 'mmdet', 'mmseg', 'mmcv', 'mmpretrain')


def _modules():
    """{module name: (path, is package)} of every .py under harness/."""
    out = {}
    for path in sorted((REPO_ROOT / 'harness').rglob('*.py')):
        parts = path.relative_to(REPO_ROOT).with_suffix('').parts
        package = parts[-1] == '__init__'
        out['.'.join(parts[:-1] if package else parts)] = (path, package)
    return out


def floor_of(module):
    best = max(
        (
            (len(prefix), i)
            for i, (_, prefixes) in enumerate(FLOORS)
            for prefix in prefixes
            if module == prefix or module.startswith(prefix + '.')
        ),
        default=None,
    )
    assert best is not None, f'{module}: on no floor; add it to FLOORS (and docs/ARCHITECTURE.md)'
    return best[1]


def imports_of(module, path, package, known):
    """[(imported harness module, line)] of `module`; `from pkg import sub` counts as importing `pkg.sub`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parent = module.split('.')[: len(module.split('.')) - node.level + (1 if package else 0)]
                base = '.'.join(parent + ([node.module] if node.module else []))
            for a in node.names:
                sub = f'{base}.{a.name}'
                found.append((sub if sub in known else base, node.lineno))
    return [
        (m, line) for m, line in found if m == 'harness' or m.startswith(('harness.', 'tools', 'tests', 'benchmarks'))
    ]


@pytest.fixture(scope='module')
def graph():
    modules = _modules()
    return {m: imports_of(m, path, package, modules) for m, (path, package) in modules.items()}


def test_no_module_imports_from_a_floor_above_its_own(graph):
    upward = [
        f'{m} (floor {FLOORS[floor_of(m)][0]}) imports {t} (floor {FLOORS[floor_of(t)][0]}) at line {line}'
        for m, targets in graph.items()
        for t, line in targets
        if t.startswith(('tools', 'tests', 'benchmarks')) or floor_of(t) > floor_of(m)
    ]
    assert not upward, '\n'.join(upward)


def test_no_import_circle(graph):
    edges = {m: {t for t, _ in targets if t in graph and t != m} for m, targets in graph.items()}
    state, path = {}, []

    def visit(m):
        state[m] = 'open'
        path.append(m)
        for t in sorted(edges[m]):
            if state.get(t) == 'open':
                raise AssertionError('import circle: ' + ' -> '.join(path[path.index(t) :] + [t]))
            if t not in state:
                visit(t)
        path.pop()
        state[m] = 'done'

    for m in sorted(edges):
        if m not in state:
            visit(m)


def test_the_checker_sees_an_upward_import_and_a_circle():
    assert floor_of('harness.report.write') > floor_of('harness.launch.runner') > floor_of('harness.patch.spec')
    assert imports_of('harness.patch.x', REPO_ROOT / 'harness' / 'patch' / 'spec.py', False, {}) == [
        (t, line)
        for t, line in imports_of('harness.patch.spec', REPO_ROOT / 'harness' / 'patch' / 'spec.py', False, {})
    ]
    with pytest.raises(AssertionError, match='import circle: harness.a -> harness.b -> harness.a'):
        test_no_import_circle({'harness.a': [('harness.b', 1)], 'harness.b': [('harness.a', 1)]})
    with pytest.raises(AssertionError, match='harness.patch.x .* imports harness.run.y'):
        test_no_module_imports_from_a_floor_above_its_own({'harness.patch.x': [('harness.run.y', 3)]})


@pytest.mark.parametrize('module', ['harness', 'harness.report', 'harness.grid'])
def test_light_floors_import_no_training_stack(module):
    code = f'import sys, {module}; print(" ".join(sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))))'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=REPO_ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '', f'import {module} loads {out.stdout.strip()}'
