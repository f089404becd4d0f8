"""Diagnosis without a downstream task: how much position a backbone's features give away (probe),
and which layers pad and how much each padding mode leaks (audit)."""

from ..exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        'leak_audit': ['audit', 'format_report', 'leak_score', 'uneven_padding'],
        'features': ['feature_levels', 'spatial_std'],
        'loading': [
            'build_model',
            'drop_pretrained',
            'load_backbone',
            'load_state',
            'preprocess_stats',
            'resolve_source',
        ],
        'probe': [
            'STRIPES',
            'TARGETS',
            'format_table',
            'make_targets',
            'natural_inputs',
            'probe_backbone',
            'synthetic_inputs',
        ],
        'probe_inputs': ['mean_over_seeds', 'probe_inputs', 'probe_size', 'val_folder'],
    },
)
