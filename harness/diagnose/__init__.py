"""Diagnosis without a downstream task: how much position a backbone's features give away (probe),
and which layers pad and how much each padding mode leaks (audit)."""
from .audit import audit, format_report, leak_score, uneven_padding
from .loading import build_model, drop_pretrained, load_backbone, load_state, preprocess_stats, resolve_source
from .probe import (STRIPES, TARGETS, format_table, make_targets, natural_inputs, probe_backbone,
                    synthetic_inputs)
from .probe_inputs import mean_over_seeds, probe_inputs, probe_size, val_folder

__all__ = ['STRIPES', 'TARGETS', 'audit', 'build_model', 'drop_pretrained', 'format_report', 'format_table', 'leak_score',
           'load_backbone', 'load_state', 'make_targets', 'mean_over_seeds', 'natural_inputs', 'preprocess_stats',
           'probe_backbone', 'probe_inputs', 'probe_size', 'resolve_source', 'synthetic_inputs', 'uneven_padding',
           'val_folder']
