import pytest
import torch
from hypothesis import HealthCheck, settings

# Property tests check correctness, not speed: a loaded 2-core CI machine must
# not turn a slow example into a failure.
settings.register_profile("genelang", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("genelang")


@pytest.fixture
def one_thread():
    """Tiny tensors: a second torch thread only waits on a shared machine."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
