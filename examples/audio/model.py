"""A tiny audio deepfake detector over raw 16 kHz waveforms.

Input: [B, 96000] float32 in [-1, 1]. Output: [B, 2] logits.
"""

from typing import Optional

import torch
import torch.nn as nn
from safetensors.torch import load_file


class WaveDetector(nn.Module):
    def __init__(self, num_classes: int = 2, channels: int = 8):
        super().__init__()
        self.frontend = nn.Conv1d(1, channels, kernel_size=400, stride=160)
        self.body = nn.Conv1d(channels, channels, kernel_size=3, padding=1)
        self.head = nn.Linear(channels, num_classes)

    def forward(self, wave: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        x = wave.float().unsqueeze(1)
        x = torch.relu(self.frontend(x))
        x = torch.relu(self.body(x))
        return self.head(x.mean(dim=-1))


def load_model(weights_path: str, num_classes: int = 2) -> nn.Module:
    model = WaveDetector(num_classes=num_classes)
    state = load_file(weights_path)
    model.load_state_dict(state)
    model.eval()
    return model
