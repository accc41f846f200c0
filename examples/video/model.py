"""A tiny video deepfake detector: per-frame CNN features, mean over time.

Input: [B, T, 3, H, W] uint8. Output: [B, 2] logits for [real, synthetic].
"""

import torch
import torch.nn as nn
from safetensors.torch import load_file
from einops import rearrange


class FrameEncoder(nn.Module):
    def __init__(self, width: int = 8):
        super().__init__()
        self.conv = nn.Conv2d(3, width, kernel_size=3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(torch.relu(self.conv(x))).flatten(1)


class TemporalPoolDetector(nn.Module):
    def __init__(self, num_classes: int = 2, width: int = 8):
        super().__init__()
        self.encoder = FrameEncoder(width)
        self.head = nn.Linear(width, num_classes)

    def forward(self, video: torch.Tensor) -> torch.Tensor:
        b = video.shape[0]
        frames = rearrange(video, "b t c h w -> (b t) c h w").float() / 255.0
        feats = rearrange(self.encoder(frames), "(b t) d -> b t d", b=b)
        return self.head(feats.mean(dim=1))


def load_model(weights_path, num_classes=2, width=8, **kwargs):
    model = TemporalPoolDetector(num_classes=num_classes, width=width)
    model.load_state_dict(load_file(weights_path))
    return model.eval()
