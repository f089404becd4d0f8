"""Grids: a grid file checked against its schema (variants x seeds, probe and pretraining settings), and
the resolved grid.json a grid's work dir keeps."""

from ..exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        'grid_json': ['dump_resolved', 'load_resolved', 'read_grid_json'],
        'schema': ['load_grid'],
        'spec': ['Grid', 'PlannedRun', 'Variant'],
    },
)
