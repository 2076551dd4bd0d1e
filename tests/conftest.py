"""Shared fixtures: fixed seeds, a device fixture, float64-by-default tolerances."""

from __future__ import annotations

import pytest
import torch

TOLERANCES = {
    torch.float64: {"rtol": 1e-10, "atol": 1e-10},
    torch.float32: {"rtol": 1e-5, "atol": 1e-5},
}

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(1234)
    yield


@pytest.fixture(params=DEVICES)
def device(request):
    """Every available device; GPU cases are simply absent without a GPU."""
    return torch.device(request.param)


@pytest.fixture
def tolerances():
    return TOLERANCES
