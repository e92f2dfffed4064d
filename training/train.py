"""Seeded, deterministic training and batched inference for the allowlisted architectures."""

from __future__ import annotations

import os
import random
from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

BAD_DEVICE = "AUDIT_DEVICE must be 'auto', 'cpu' or 'cuda', not {value!r}."
NO_CUDA = "AUDIT_DEVICE=cuda but no CUDA device is available."


def resolve_device(preference: str | None = None) -> torch.device:
    """'auto' picks CUDA when available; 'cuda' without a GPU is an error, not a silent fallback."""
    preference = (preference or os.environ.get("AUDIT_DEVICE", "auto")).lower()
    if preference not in {"auto", "cpu", "cuda"}:
        raise ValueError(BAD_DEVICE.format(value=preference))
    if preference == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(NO_CUDA)
    if preference == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


def set_seed(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def make_loader(X: np.ndarray, y: np.ndarray, *, batch_size: int, seed: int, shuffle: bool = True) -> DataLoader:
    dataset = TensorDataset(torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.long))
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=torch.Generator().manual_seed(seed))


def train_classifier(
    model: nn.Module,
    X: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    device: torch.device | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train with Adam and cross-entropy; returns the mean loss per epoch."""
    device = device or torch.device("cpu")
    set_seed(seed)
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    loader = make_loader(X, y, batch_size=batch_size, seed=seed)
    history = []
    for epoch in range(epochs):
        total, count = 0.0, 0
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(yb)
            count += len(yb)
        history.append(total / max(count, 1))
        if on_epoch:
            on_epoch(epoch, history[-1])
    model.eval()
    return history


@torch.no_grad()
def predict_proba(model: nn.Module, X: np.ndarray, *, device: torch.device | None = None, batch_size: int = 4096) -> np.ndarray:
    # An int8 copy keeps its weights packed, not as parameters, and runs on the CPU.
    device = device or next(model.parameters(), torch.empty(0)).device
    model.eval()
    out = []
    for start in range(0, len(X), batch_size):
        xb = torch.as_tensor(X[start : start + batch_size], dtype=torch.float32, device=device)
        out.append(torch.softmax(model(xb), dim=1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)
