"""posharness: how much do detectors and segmenters depend on the position that padding leaks?"""

from setuptools import find_packages, setup

setup(
    name='posharness',
    version='0.1.0',
    description='Padding / CoordConv ablation harness for MMDetection and MMSegmentation',
    packages=find_packages(include=['harness', 'harness.*']),
    python_requires='>=3.10',
    # torch, torchvision and mmcv are installed by tools/setup.sh (mmcv has to be built from source).
    install_requires=[
        'mmengine==0.10.7',
        'mmdet==3.3.0',
        'mmsegmentation==1.2.2',
        # matched pretraining (harness/run/pretrain.py): ImageNet classifiers. Its mmcv/mmengine bounds are in
        # the 'mim' extra only, so this pulls none of them (works with mmcv 2.1.0 / mmengine 0.10.7 here).
        'mmpretrain==1.2.0',
        'pycocotools',
        'faster-coco-eval',
        'ftfy',  # imported by mmseg.utils, not declared by mmseg (mmseg#3704)
        'regex',
        'pyyaml',
        'matplotlib',
        'scipy',
        # compiled loops of the image bootstrap (harness/evaluation/resample.py, per_image.py): COCO's
        # greedy matching and AP on 1000 resamples, in a fraction of the evaluation time
        'numba>=0.61',
        'cityscapesscripts',  # mmseg's CityscapesMetric; needs the np.in1d shim in harness/compat.py
        # every grid run logs to TensorBoard (mmengine's TensorboardVisBackend, harness/engine/tracking.py)
        'tensorboard',
        'filelock',  # data/.tiny.lock: one process generates the tiny sets (harness/data/tiny_sets.py)
    ],
    # dev: what tools/test.sh runs (lint and format rules, type check: pyproject.toml; pytest-xdist: the suite
    # runs on every core, pytest.ini)
    extras_require={'dev': ['pytest', 'pytest-timeout', 'pytest-xdist', 'selenium', 'ruff', 'mypy']},
)
