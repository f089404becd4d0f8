"""Patching a built model: the padding spec, padding modes and border layers, CoordConv channels, SOLO
without coordinates, the batch canvas that follows the padding mode, `HarnessModel`, and the check that
a checkpoint was trained with the config's patch."""

from ..exports import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(
    __name__,
    {
        'border_layers': ['BorderMixin', 'pad_amounts', 'pad_circular'],
        'canvas': ['fill_canvas', 'follow_canvas'],
        'convert': ['classify', 'convert_padding', 'scope_globs'],
        'coordconv': ['PRESETS as COORDCONV_PRESETS', 'inject_coordconv'],
        'model': ['HarnessModel', 'harness_model', 'patch_model'],
        'modes': ['CANVAS_RULES', 'INPUT_CANVAS', 'PADDING_MODES', 'SCOPE_PRESETS', 'SCOPES'],
        'modules': ['matches', 'rebuild_as', 'replace_module'],
        'provenance': ['check_patch', 'patch_spec'],
        'solo_coords': ['remove_solo_coords'],
        'spec': ['PaddingSpec'],
    },
)
