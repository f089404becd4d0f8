"""Data: checks of COCO 2017 / Cityscapes trees, tiny generated sets where position decides the label,
random subsets of the real sets, stand-ins for a set that is missing (to time a training step), and the
training input size a config implies."""

from ..exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        'checks': ['check_cityscapes', 'check_coco', 'check_data', 'cityscapes_split', 'load_coco_json'],
        'cityscapes_labels': ['CITYSCAPES_CLASSES', 'CITYSCAPES_LABELS', 'LABEL_ID_TO_TRAIN_ID'],
        'image_folders': ['check_image_folders'],
        'input_size': ['image_folder', 'train_input_size'],
        'subset': ['subset_cityscapes', 'subset_coco'],
        'synthetic': ['missing_path', 'point_at_synthetic'],
        'tiny': ['TinyDataset', 'check_tiny_args', 'read_stamp'],
        'tiny_cityscapes': ['make_tiny_cityscapes'],
        'tiny_coco': ['COCO_CLASSES', 'make_tiny_coco'],
        'tiny_quadrants': ['QUADRANT_CLASSES', 'make_tiny_quadrants'],
        'tiny_sets': ['ensure_tiny_data'],
    },
)
