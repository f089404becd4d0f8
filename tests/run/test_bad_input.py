"""Every bad input answered, end to end: each malformed input goes through a real CLI's `main`.

Each case runs the command's `main` in this process under `run_cli`, the wrapper its script runs it under
(a subprocess per case spent ~10 s importing torch, mmdet and mmseg, minutes over the file); a real
process (`_shell`) answers the cases about one: the shell entry point, a script's own imports (report.py),
a grid that trains.

The contract (harness/errors.py, harness/run/cli.py `run_cli`): exit code 2, stderr exactly one line
`error: <message>` that names the file or field and says what was expected, no traceback anywhere, and
nothing finished damaged: a grid command pointed at a work dir that holds a finished run leaves that
work dir byte-identical (a bad grid is refused before anything is created). Argparse's own errors
keep argparse's format in every tool (the usage block, then one `<tool>: error: ...` line, exit 2).

Decided here: everything knowable before training (grid schema, padding scope, CoordConv sites, model
keys, data, and whether every patched layer fits its input at the training size: the preflight forward
pass) stops the grid before any run starts (`test_none_layer_too_wide_for_the_crop_fails_preflight`).
An error that only shows on other data (a test image smaller than the training crop) fails that run,
with the child's `error:` line as the reason in its results.json, and the grid goes on and exits 0
(`test_impossible_none_layer_fails_the_run_...`).
"""

import contextlib
import importlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from grid_cli import RUN
from PIL import Image
from tool_loader import load_tool

from harness.paths import REPO_ROOT

REPO = REPO_ROOT
TRAIN = [sys.executable, str(REPO / 'tools' / 'train.py')]
TEST = [sys.executable, str(REPO / 'tools' / 'test.py')]
REPORT = [sys.executable, str(REPO / 'tools' / 'report.py')]
SUBSET = [sys.executable, str(REPO / 'tools' / 'make_subset.py')]
FCN = 'configs/smoke/fcn_r18-d8_tiny-cityscapes.py'
MASK_RCNN = 'configs/smoke/mask-rcnn_r18_fpn_tiny-coco.py'
HEAD = f'name: g\nbase: {FCN}\nbaseline: fcn\n'
FINISHED = dict(
    run='fcn_seed0',
    variant='fcn',
    seed=0,
    task='cityscapes',
    status='done',
    error=None,
    iteration=None,
    metrics={'mIoU': 41.5, 'aAcc': 80.25, 'mAcc': 50.0},
    meta={'wall_s': 12.0},
)
pytestmark = pytest.mark.usefixtures('repo_tiny_data')  # the smoke configs read data/


def _shell(cmd, timeout=300):
    return subprocess.run([str(c) for c in cmd], cwd=REPO, capture_output=True, text=True, timeout=timeout)


def _main_of(script):
    """The `main` a command line's script runs (tools/run_ablation.sh runs harness.commands.run_ablation)."""
    name = Path(script).stem
    if name in ('run_ablation', 'train', 'report'):
        return importlib.import_module(f'harness.commands.{name}').main
    return load_tool(name).main


def _cli(cmd):
    """`cmd` answered in this process: its script's `main` under `run_cli`, with the script's argv, stdout,
    stderr and working folder; returned as the CompletedProcess a subprocess would give."""
    from harness.run.cli import run_cli

    args = [str(c) for c in (cmd[1:] if cmd[0] == sys.executable else cmd)]
    script = args[0].replace('.sh', '.py')  # the shell wrapper runs the module of the same name
    main, out, err = _main_of(script), io.StringIO(), io.StringIO()
    saved = sys.argv, warnings.showwarning, os.getcwd()
    sys.argv, code = [script, *args[1:]], [0]

    def call():  # report.py's main returns its exit code, the others raise SystemExit
        code[0] = main() or 0

    try:
        os.chdir(REPO)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            run_cli(call)
    except SystemExit as e:
        code[0] = e.code if isinstance(e.code, int) else int(e.code is not None)
    finally:
        sys.argv, warnings.showwarning = saved[:2]
        os.chdir(saved[2])
    return subprocess.CompletedProcess(args, code[0], out.getvalue(), err.getvalue())


def _one_line_error(proc, *patterns, expected=True):
    """The contract; returns the message."""
    assert 'Traceback' not in proc.stdout + proc.stderr, (proc.stdout + proc.stderr)[-4000:]
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), proc.stderr[-3000:]
    for pattern in patterns:
        assert re.search(pattern, lines[0]), lines[0]
    if expected:
        assert 'expected' in lines[0], lines[0]
    return lines[0]


def _usage_error(proc, tool, pattern):
    """argparse's answer: usage block, then `<tool>: error: <what>` as the last line, exit 2."""
    assert 'Traceback' not in proc.stdout + proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    lines = proc.stderr.splitlines()
    assert lines[0].startswith('usage: ') and all(not line.startswith('error') for line in lines)
    assert lines[-1].startswith(f'{tool}: error: ') and sum(': error: ' in line for line in lines) == 1, lines
    assert re.search(pattern, lines[-1]), lines[-1]


def _tree(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(Path(root).rglob('*')) if p.is_file()}


@pytest.fixture
def finished(tmp_path):
    """A work dir holding grid `g` with one finished run (its results.json), and its snapshot."""
    work = tmp_path / 'work'
    run = work / 'g' / 'fcn_seed0'
    run.mkdir(parents=True)
    (run / 'results.json').write_text(json.dumps(FINISHED, indent=1))
    return work, _tree(work)


def _grid(tmp_path, text, name='grid.yaml'):
    path = tmp_path / name
    path.write_text(text)
    return path


def _run_grid(tmp_path, finished, text, *extra):
    work, before = finished
    proc = _cli(RUN + [_grid(tmp_path, text), '--work-dir', work, '--report-dir', tmp_path / 'report', *extra])
    assert _tree(work) == before, 'a refused grid changed the work dir'
    assert not (tmp_path / 'report').exists()
    return proc


# ------------------------------------------------------------------ grid files (tools/run_ablation.sh)

GRIDS = {
    'yaml_syntax': (HEAD + 'variants: [{name: fcn}\n', r'grid\.yaml: line \d+, column \d+: YAML syntax error'),
    'unknown_key': (
        f'name: g\nbase: {FCN}\nbasline: fcn\nvariants: [{{name: fcn}}]\n',
        r"top level: unknown key 'basline' \(did you mean 'baseline'\?\)",
    ),
    'unknown_variant_key': (
        HEAD + 'variants: [{name: fcn, paddding: {mode: none}}]\n',
        r"variants\[0\]: unknown key 'paddding'",
    ),
    'unknown_mode': (
        HEAD + 'variants:\n  - name: fcn\n  - {name: x, padding: {mode: mirror}}\n',
        r"variants\[1\]\.padding\.mode: unknown padding mode 'mirror'; expected one of zeros",
    ),
    'seed_not_int': (HEAD + 'seeds: [zero]\nvariants: [{name: fcn}]\n', r"seeds\[0\]: got 'zero'"),
    'cfg_options_not_mapping': (
        HEAD + 'cfg_options: [train_cfg.max_iters]\nvariants: [{name: fcn}]\n',
        r'grid\.yaml: cfg_options: got',
    ),
    'padding_not_mapping': (
        HEAD + 'variants:\n  - name: fcn\n  - {name: x, padding: none}\n',
        r"variants\[1\]\.padding: got 'none'",
    ),
    'solo_coords_not_bool': (
        HEAD + 'variants: [{name: fcn, solo_coords: maybe}]\n',
        r"variants\[0\]\.solo_coords: got 'maybe'; expected true or false",
    ),
    'empty_variants': (HEAD + 'variants: []\n', r'variants: got \[\]; expected a non-empty list'),
    'duplicate_names': (
        HEAD + 'variants: [{name: fcn}, {name: fcn}]\n',
        r"variants\[1\]\.name: duplicate variant name 'fcn'",
    ),
    'duplicate_key': (HEAD + 'baseline: fcn\nvariants: [{name: fcn}]\n', r"duplicate key 'baseline'"),
    'missing_base': (
        'name: g\nbase: configs/smoke/nope.py\nbaseline: fcn\nvariants: [{name: fcn}]\n',
        r"base: config file 'configs/smoke/nope\.py' not found",
    ),
    'baseline_names_no_variant': (
        f'name: g\nbase: {FCN}\nbaseline: zeros\nvariants: [{{name: fcn}}]\n',
        r"baseline: 'zeros' names no variant; expected one of fcn",
    ),
    'padding_scope_matches_nothing': (
        HEAD + "variants:\n  - name: fcn\n  - {name: x, padding: {mode: none, scope: ['backbone.nosuch*']}}\n",
        r"x_seed0: padding\.scope: 'backbone\.nosuch\*' matches no padded layer",
    ),
    'coordconv_site_matches_nothing': (
        HEAD + "variants: [{name: fcn, coordconv: {sites: ['decode_head.nothing*']}}]\n",
        r"fcn_seed0: coordconv\.sites: 'decode_head\.nothing\*' matches no conv",
    ),
    'cfg_option_the_model_does_not_take': (
        HEAD + 'variants: [{name: fcn, cfg_options: {model.backbone.deep: 1}}]\n',
        r"fcn_seed0: cannot build the model .*'deep'",
    ),
    'dataset_folder_missing': (
        HEAD + 'cfg_options: {train_dataloader.dataset.data_root: /nonexistent/city/}\nvariants: [{name: fcn}]\n',
        r"train_dataloader\.dataset \(data_root '/nonexistent/city/'\): dataset folder "
        r'/nonexistent/city does not exist',
    ),
}


@pytest.mark.parametrize('case', list(GRIDS))
def test_bad_grid(tmp_path, finished, case):
    text, pattern = GRIDS[case]
    _one_line_error(_run_grid(tmp_path, finished, text), pattern)


def test_grid_python_tag_is_refused_and_nothing_executes(tmp_path, finished):
    marker = tmp_path / 'executed'
    text = HEAD + f'description: !!python/object/apply:os.system ["touch {marker}"]\nvariants: [{{name: fcn}}]\n'
    _one_line_error(_run_grid(tmp_path, finished, text), r'line 4, .*python and other custom tags are not allowed')
    assert not marker.exists()


def test_grid_file_missing(tmp_path, finished):
    work, before = finished
    proc = _shell(RUN + [tmp_path / 'nope.yaml', '--work-dir', work])  # through tools/run_ablation.sh
    _one_line_error(proc, r'nope\.yaml: grid file: not found')
    assert _tree(work) == before


def test_only_glob_matches_no_run(tmp_path, finished):
    _one_line_error(
        _run_grid(tmp_path, finished, HEAD + 'variants: [{name: fcn}]\n', '--only', 'zzz*'),
        r"only: 'zzz\*' matches no run; expected a glob over variant names \(fcn\)",
    )


def test_unwritable_work_dir(tmp_path, finished):
    # root ignores chmod: a path under a regular file cannot be created by anyone.
    (tmp_path / 'file').write_text('')
    proc = _cli(RUN + [_grid(tmp_path, HEAD + 'variants: [{name: fcn}]\n'), '--work-dir', tmp_path / 'file' / 'w'])
    _one_line_error(proc, r'work dir .*file/w/g: cannot create it \(Not a directory\); expected a writable folder')


def test_unwritable_report_dir(tmp_path, finished):
    (tmp_path / 'file').write_text('')
    work, before = finished
    proc = _cli(
        RUN
        + [
            _grid(tmp_path, HEAD + 'variants: [{name: fcn}]\n'),
            '--work-dir',
            work,
            '--report-dir',
            tmp_path / 'file' / 'r',
        ]
    )
    _one_line_error(proc, r'report dir .*file/r: cannot create it \(Not a directory\)')
    assert _tree(work) == before


def test_grid_locked_by_another_runner(tmp_path, finished):
    import fcntl

    work, _ = finished
    with open(work / 'g' / '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        before = _tree(work)
        proc = _cli(RUN + [_grid(tmp_path, HEAD + 'variants: [{name: fcn}]\n'), '--work-dir', work])
    _one_line_error(proc, r'another run_ablation is working on this grid .*expected one runner per grid')
    assert _tree(work) == before


@pytest.mark.parametrize(
    'flags,pattern',
    [
        (['--gpus', '0'], r'--gpus: expected a positive number'),
        (['--launcher', 'mpi'], r"argument --launcher: invalid choice: 'mpi'"),
        (['--bogus'], r'unrecognized arguments: --bogus'),
    ],
)
def test_bad_run_ablation_flags(tmp_path, finished, flags, pattern):
    work, before = finished
    _usage_error(
        _cli(RUN + [_grid(tmp_path, HEAD + 'variants: [{name: fcn}]\n'), '--work-dir', work, *flags]),
        'run_ablation.py',
        pattern,
    )
    assert _tree(work) == before


def test_none_layer_too_wide_for_the_crop_fails_preflight(tmp_path, finished):
    """deeplabv3 with padding none everywhere: ASPP's dilated 3x3 convs (dilation 9, extent 19) are taller
    than the 16x32 features of its 128x256 training crop. The model builds; its one preflight forward pass
    at the training size fails, naming the layer, before any run dir is touched."""
    text = (
        'name: g\nbase: configs/smoke/deeplabv3_r18-d8_tiny-cityscapes.py\nbaseline: fcn\n'
        'variants: [{name: fcn}, {name: none, padding: {mode: none, scope: all}}]\n'
    )
    _one_line_error(
        _run_grid(tmp_path, finished, text),
        r'^error: none_seed0: one forward pass at the training input size 128x256 \(the data_preprocessor '
        r'size \(crop\)\) on CPU: decode_head\.aspp_modules\.3\.conv: padding mode none needs a valid '
        r'Conv2d, but its kernel extent 19x19 is larger than its 16x32 input',
    )


def test_impossible_none_layer_fails_the_run_and_the_grid_goes_on(tmp_path):
    """deeplabv3 with padding none everywhere, trained on 160x256 crops (the tiny images padded to the
    data_preprocessor's size) and tested on the 128x256 images as stored: ASPP's dilated 3x3 convs
    (dilation 9, extent 19) fit the 20x32 training features, so the preflight passes, but are taller than
    the 16x32 test features. The test child raises PaddingError, and each run is marked failed with it."""
    grid = _grid(
        tmp_path,
        'name: impossible\nbase: configs/smoke/deeplabv3_r18-d8_tiny-cityscapes.py\n'
        'baseline: none\nseeds: [0, 1]\n'
        'cfg_options: {train_cfg.max_iters: 1, model.data_preprocessor.size: [160, 256]}\n'
        'variants: [{name: none, padding: {mode: none, scope: all}}]\n',
    )
    proc = _shell(RUN + [grid, '--work-dir', tmp_path / 'work', '--report-dir', tmp_path / 'report'], timeout=900)
    assert proc.returncode == 0 and 'Traceback' not in proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]
    for seed in (0, 1):
        result = json.loads((tmp_path / 'work' / 'impossible' / f'none_seed{seed}' / 'results.json').read_text())
        assert result['status'] == 'failed', result
        assert re.fullmatch(
            r'decode_head\.aspp_modules\.\d\.conv: padding mode none needs a valid Conv2d, but its '
            r'kernel extent \d+x\d+ is larger than its \d+x\d+ input; narrow the padding scope.*',
            result['error'],
        ), result['error']
    report = (tmp_path / 'report' / 'report.md').read_text()
    assert 'none_seed0' in report and 'none_seed1' in report and 'padding mode none needs a valid' in report


# ------------------------------------------------------------------ tools/train.py and tools/test.py


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory, repo_tiny_data):
    """Private copies of the tiny sets, to break."""
    root = tmp_path_factory.mktemp('data')
    for name in ('tiny_coco', 'tiny_cityscapes'):
        shutil.copytree(repo_tiny_data / name, root / name)
    return root


def _copy(tiny_data, tmp_path, name):
    shutil.copytree(tiny_data / name, tmp_path / name)
    return tmp_path / name


def _train(tmp_path, config, *options):
    return _cli(TRAIN + [config, '--work-dir', tmp_path / 'w', *(['--cfg-options', *options] if options else [])])


def test_train_config_missing(tmp_path):
    _one_line_error(_cli(TRAIN + ['configs/smoke/nope.py']), r'configs/smoke/nope\.py: config file not found')


def test_train_config_syntax_error(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text("_base_ = ['" + str(REPO / FCN) + "']\nmodel = dict(\n")
    _one_line_error(_cli(TRAIN + [bad]), r'bad\.py: cannot load config \(SyntaxError')


def test_train_cfg_options_without_equals(tmp_path):
    _usage_error(
        _cli(TRAIN + [FCN, '--cfg-options', 'train_cfg.max_iters']),
        'train.py',
        r"argument --cfg-options: got 'train_cfg\.max_iters'; expected KEY=VALUE",
    )


def test_train_resume_from_missing_checkpoint(tmp_path):
    _one_line_error(
        _cli(TRAIN + [FCN, '--work-dir', tmp_path / 'w', '--resume', tmp_path / 'nope.pth']),
        r'--resume .*nope\.pth: checkpoint file not found',
    )


def test_train_unwritable_work_dir(tmp_path):
    (tmp_path / 'file').write_text('')
    _one_line_error(
        _cli(TRAIN + [FCN, '--work-dir', tmp_path / 'file' / 'w']),
        r'work dir .*file/w: cannot create it \(Not a directory\); expected a writable folder',
    )


def test_train_padding_scope_matches_nothing(tmp_path, tiny_data):
    _one_line_error(
        _train(tmp_path, FCN, 'model.padding.scope=neckk'),
        r"padding\.scope: 'neckk' matches no padded layer of EncoderDecoder",
    )


def test_train_dataset_folder_missing(tmp_path):
    _one_line_error(
        _train(tmp_path, FCN, f'train_dataloader.dataset.data_root={tmp_path}/nope/'),
        rf'train_dataloader\.dataset .*: dataset folder {tmp_path}/nope does not exist',
    )


def test_train_annotation_json_corrupt(tmp_path, tiny_data):
    root = _copy(tiny_data, tmp_path, 'tiny_coco')
    ann = root / 'annotations' / 'instances_train2017.json'
    ann.write_bytes(ann.read_bytes()[:1000])  # truncated mid-file
    _one_line_error(
        _train(tmp_path, MASK_RCNN, f'train_dataloader.dataset.data_root={root}/'),
        rf'annotation file {ann} is not valid JSON: .* at line 1, column \d+; expected a COCO split',
    )


def test_train_image_missing(tmp_path, tiny_data):
    root = _copy(tiny_data, tmp_path, 'tiny_coco')
    (root / 'train2017' / '000000000003.jpg').unlink()
    _one_line_error(
        _train(tmp_path, MASK_RCNN, f'train_dataloader.dataset.data_root={root}/'),
        r'image 000000000003\.jpg \(id 3\) is listed but .*000000000003\.jpg does not exist; '
        r'expected a COCO split',
    )


def test_train_label_ids_out_of_range(tmp_path, tiny_data):
    root = _copy(tiny_data, tmp_path, 'tiny_cityscapes')
    label = sorted((root / 'gtFine' / 'train').rglob('*_gtFine_labelTrainIds.png'))[0]
    arr = np.array(Image.open(label))
    arr[:4, :4] = 50  # trainIds are 0..18 or 255
    Image.fromarray(arr).save(label)
    _one_line_error(
        _train(tmp_path, FCN, f'train_dataloader.dataset.data_root={root}/'),
        rf'label image {label} has trainId 50 out of range \(expected 0\.\.18 or 255; 16 pixels',
    )


def test_train_label_file_missing(tmp_path, tiny_data):
    root = _copy(tiny_data, tmp_path, 'tiny_cityscapes')
    label = sorted((root / 'gtFine' / 'train').rglob('*_gtFine_labelTrainIds.png'))[0]
    label.unlink()
    _one_line_error(
        _train(tmp_path, FCN, f'train_dataloader.dataset.data_root={root}/'),
        rf'has no {label.name} in .*; expected a Cityscapes split',
    )


def test_test_checkpoint_missing(tmp_path):
    _one_line_error(_cli(TEST + [FCN, tmp_path / 'iter_9.pth']), r'checkpoint .*iter_9\.pth: file not found')


@pytest.mark.parametrize(
    'content', [b'', b'PK\x03\x04 not really a zip', b'x' * 1000], ids=['empty', 'zip-header', 'junk']
)
def test_test_checkpoint_corrupt(tmp_path, content):
    ckpt = tmp_path / 'iter_4.pth'
    ckpt.write_bytes(content)
    _one_line_error(_cli(TEST + [FCN, ckpt]), rf'checkpoint {ckpt}: not a readable torch checkpoint')


def test_test_bad_flag(tmp_path):
    _usage_error(_cli(TEST + [FCN]), 'test.py', r'the following arguments are required: checkpoint')


# ------------------------------------------------------------------ tools/report.py, tools/make_subset.py


def test_report_without_grid_json(tmp_path, finished):
    work, before = finished
    _one_line_error(_cli(REPORT + [work / 'g', '--out', tmp_path / 'report']), rf'{work}/g/grid\.json: not found')
    assert _tree(work) == before


def test_report_bad_flag(tmp_path):
    _usage_error(_shell(REPORT + []), 'report.py', r'the following arguments are required: WORK_DIR')


def test_make_subset_source_missing(tmp_path):
    # make_subset's message names the folder but has no "expected" (not this test's file to change).
    _one_line_error(
        _cli(SUBSET + ['coco', '--src', tmp_path / 'nope', '--out', tmp_path / 'out']),
        rf'source folder {tmp_path}/nope does not exist',
        expected=False,
    )
    assert not (tmp_path / 'out').exists()


def test_html_report_escapes_every_string(tmp_path):
    """Strings from the grid (descriptions, names) are data: the HTML shows them, escaped."""
    from harness.grid import dump_resolved, load_grid

    payload = '<script>alert("x")</script>'
    grid = load_grid(
        _grid(
            tmp_path,
            f"name: g\nbase: {FCN}\nbaseline: fcn\ndescription: 'grid {payload}'\n"
            f"variants: [{{name: fcn, description: 'variant {payload}'}}]\n",
        )
    )
    work = tmp_path / 'work' / 'g'
    (work / 'fcn_seed0').mkdir(parents=True)
    (work / 'grid.json').write_text(json.dumps(dump_resolved(grid)))
    (work / 'fcn_seed0' / 'results.json').write_text(json.dumps(dict(FINISHED, error=payload)))
    proc = _cli(REPORT + [work, '--out', tmp_path / 'report'])
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / 'report' / 'report.html').read_text()
    assert '<script' not in html.lower()
    assert html.count('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;') >= 2, 'descriptions not shown escaped'
