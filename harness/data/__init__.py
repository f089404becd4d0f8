"""Data: checks of COCO 2017 / Cityscapes trees, tiny generated sets where position decides the label,
random subsets of the real sets, stand-ins for a set that is missing (to time a training step), and the
data preprocessor whose batch canvas follows the padding mode."""
from .checks import check_cityscapes, check_coco, check_data, cityscapes_split, load_coco_json
from .cityscapes_labels import CITYSCAPES_CLASSES, CITYSCAPES_LABELS, LABEL_ID_TO_TRAIN_ID
from .preprocessors import CANVAS_RULES, INPUT_CANVAS, fill_canvas, follow_canvas
from .subset import subset_cityscapes, subset_coco
from .synthetic import missing_path, point_at_synthetic
from .tiny import TinyDataset, check_tiny_args, ensure_tiny_data, read_stamp
from .tiny_cityscapes import make_tiny_cityscapes
from .tiny_coco import COCO_CLASSES, make_tiny_coco
from .tiny_quadrants import QUADRANT_CLASSES, make_tiny_quadrants
from .image_folders import check_image_folders

__all__ = ['CANVAS_RULES', 'CITYSCAPES_CLASSES', 'CITYSCAPES_LABELS', 'COCO_CLASSES', 'INPUT_CANVAS',
           'LABEL_ID_TO_TRAIN_ID', 'TinyDataset', 'fill_canvas', 'follow_canvas',
           'check_cityscapes', 'check_coco', 'check_data', 'check_tiny_args', 'cityscapes_split', 'ensure_tiny_data',
           'load_coco_json', 'make_tiny_cityscapes', 'make_tiny_coco', 'missing_path', 'point_at_synthetic',
           'read_stamp', 'subset_cityscapes', 'subset_coco', 'QUADRANT_CLASSES', 'make_tiny_quadrants', 'check_image_folders']
