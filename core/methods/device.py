"""The torch device, chosen once for the whole process: CUDA when present, else the CPU."""

import torch

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")
