# Loads the harness into any mmdet / mmseg config: `harness.engine.register` registers HarnessModel, the
# hooks and metrics, and applies the stack shims (see docs/STACK.md).
custom_imports = dict(imports=['harness.engine.register'], allow_failed_imports=False)
custom_hooks = [
    dict(type='PatchReportHook'),  # saves patch_report.json in the work dir
    dict(type='NonFiniteLossHook'),  # stops a run whose loss is NaN/inf and records why
]
