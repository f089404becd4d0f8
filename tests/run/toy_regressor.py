"""The smallest model a real mmengine Runner trains: the runner, checkpoint and patch-provenance tests share it."""

import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.registry import MODELS


@MODELS.register_module()
class ToyRegressor(BaseModel):
    """Conv + BN + pool regressor: enough for a real mmengine runner, its checkpoints and a padding patch."""

    def __init__(self, data_preprocessor=None):
        super().__init__(data_preprocessor)
        self.backbone = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.MaxPool2d(3, 2, 1),
            nn.Conv2d(8, 1, 3, padding=1),
        )

    def forward(self, inputs, targets=None, mode='tensor'):
        out = self.backbone(inputs).mean((1, 2, 3))
        if mode == 'loss':
            return dict(loss=((out - targets) ** 2).mean())
        return out
