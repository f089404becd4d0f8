"""The Cityscapes label set, as cityscapesscripts and mmseg define it (one copy for the harness)."""

import numpy as np

# mmseg's CityscapesDataset.METAINFO['classes'], indexed by trainId.
CITYSCAPES_CLASSES = (
    'road',
    'sidewalk',
    'building',
    'wall',
    'fence',
    'pole',
    'traffic light',
    'traffic sign',
    'vegetation',
    'terrain',
    'sky',
    'person',
    'rider',
    'car',
    'truck',
    'bus',
    'train',
    'motorcycle',
    'bicycle',
)

# cityscapesscripts.helpers.labels: (name, id, trainId, hasInstances, color). 255 = ignored.
CITYSCAPES_LABELS = (
    ('unlabeled', 0, 255, False, (0, 0, 0)),
    ('ego vehicle', 1, 255, False, (0, 0, 0)),
    ('rectification border', 2, 255, False, (0, 0, 0)),
    ('out of roi', 3, 255, False, (0, 0, 0)),
    ('static', 4, 255, False, (0, 0, 0)),
    ('dynamic', 5, 255, False, (111, 74, 0)),
    ('ground', 6, 255, False, (81, 0, 81)),
    ('road', 7, 0, False, (128, 64, 128)),
    ('sidewalk', 8, 1, False, (244, 35, 232)),
    ('parking', 9, 255, False, (250, 170, 160)),
    ('rail track', 10, 255, False, (230, 150, 140)),
    ('building', 11, 2, False, (70, 70, 70)),
    ('wall', 12, 3, False, (102, 102, 156)),
    ('fence', 13, 4, False, (190, 153, 153)),
    ('guard rail', 14, 255, False, (180, 165, 180)),
    ('bridge', 15, 255, False, (150, 100, 100)),
    ('tunnel', 16, 255, False, (150, 120, 90)),
    ('pole', 17, 5, False, (153, 153, 153)),
    ('polegroup', 18, 255, False, (153, 153, 153)),
    ('traffic light', 19, 6, False, (250, 170, 30)),
    ('traffic sign', 20, 7, False, (220, 220, 0)),
    ('vegetation', 21, 8, False, (107, 142, 35)),
    ('terrain', 22, 9, False, (152, 251, 152)),
    ('sky', 23, 10, False, (70, 130, 180)),
    ('person', 24, 11, True, (220, 20, 60)),
    ('rider', 25, 12, True, (255, 0, 0)),
    ('car', 26, 13, True, (0, 0, 142)),
    ('truck', 27, 14, True, (0, 0, 70)),
    ('bus', 28, 15, True, (0, 60, 100)),
    ('caravan', 29, 255, True, (0, 0, 90)),
    ('trailer', 30, 255, True, (0, 0, 110)),
    ('train', 31, 16, True, (0, 80, 100)),
    ('motorcycle', 32, 17, True, (0, 0, 230)),
    ('bicycle', 33, 18, True, (119, 11, 32)),
)
LABEL_ID_TO_TRAIN_ID = np.full(256, 255, np.uint8)
for _name, _id, _train_id, _inst, _color in CITYSCAPES_LABELS:
    LABEL_ID_TO_TRAIN_ID[_id] = _train_id
