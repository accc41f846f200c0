"""A tiny image deepfake detector: the shape of a real SN34 image submission.

Input: [B, 3, H, W] uint8 RGB. Output: [B, 2] logits for [real, synthetic].
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file

MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


class TinyDetector(nn.Module):
    def __init__(self, num_classes: int = 2):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))
        self.conv1 = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, stride=2, padding=1)
        self.head = nn.Linear(16, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The evaluator feeds uint8 pixels; cast and normalise here.
        x = x.to(self.mean.dtype) / 255.0
        x = (x - self.mean) / self.std
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.conv2(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)


def load_model(weights_path: str, num_classes: int = 2) -> nn.Module:
    model = TinyDetector(num_classes=num_classes)
    model.load_state_dict(load_file(weights_path))
    model.eval()
    return model
