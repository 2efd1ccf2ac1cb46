"""cnnlib._threads: the thread policy's decisions, its measurement and its respect for the user.

Nothing here is timed: the load is faked, and the tests check which thread
count the policy picks, not how fast anything runs (benchmarks/cpu_threads.py
measures that).
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import pytest
import torch

import ddp_fit  # the torchrun worker, on sys.path through conftest.py
from cnnlib import _threads, train
from cnnlib._threads import CpuThreads, busy_cpu_seconds, choose_threads, user_threads
from cnnlib.models import get_model

DEFAULT = torch.get_num_interop_threads()  # torch's own default intra-op count
CORES = len(_threads._cpus())
OVERLOAD = 2 * CORES  # other processes want twice the cores there are


@pytest.fixture(autouse=True)
def torch_threads(monkeypatch):
    """Each test starts with torch's default threads and no user setting, and leaves them so."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(DEFAULT)
    yield
    torch.set_num_threads(before)
    monkeypatch.setattr(_threads, "_last_set", None)


@pytest.fixture
def other_processes(monkeypatch, tmp_path):
    """Fake the other processes' load: ``set(cores)`` keeps that many cores busy from now on."""
    stat = tmp_path / "stat"
    stat.write_text("cpu0 0 0 0 0 0 0 0 0\n")
    monkeypatch.setattr(_threads, "_STAT", stat)
    load = {"cores": 0.0, "since": time.perf_counter(), "seconds": 0.0}

    def fake(text: str, cpus: object, ticks_per_second: int) -> float:
        # Busy seconds of all processes: the others' so far plus this process's own.
        others = load["seconds"] + load["cores"] * (time.perf_counter() - load["since"])
        return others + time.process_time()

    def set_load(cores: float) -> None:
        now = time.perf_counter()
        load["seconds"] += load["cores"] * (now - load["since"])
        load.update(cores=float(cores), since=now)

    monkeypatch.setattr(_threads, "busy_cpu_seconds", fake)
    return set_load


@pytest.mark.parametrize(
    "cores, busy, default, world, expected",
    [
        (2, 0.0, 2, 1, 2),  # alone: torch's default, as fast as before
        (2, 0.3, 2, 1, 2),  # a little background work rounds away
        (2, 1.0, 2, 1, 1),  # another training process on one core
        (2, 0.6, 2, 1, 1),  # ... which got only part of a core while we used both
        (2, 4.0, 2, 1, 1),  # overloaded: never below one thread
        (8, 0.0, 4, 1, 4),  # 8 logical CPUs, 4 physical cores: never above torch's default
        (8, 3.0, 8, 1, 5),
        (8, 0.0, 8, 2, 4),  # torchrun with 2 processes here: half the cores each
        (8, 4.0, 8, 2, 4),  # ... the other one keeps its 4 busy
        (2, 0.0, 2, 3, 1),  # more processes than cores
        (1, 0.0, 1, 1, 1),
    ],
)
def test_choose_threads(cores, busy, default, world, expected):
    chosen = choose_threads(cores=cores, busy=busy, default=default, local_world_size=world)
    assert chosen == expected


@pytest.mark.parametrize("busy", [0.0, 1.0, 7.5])
def test_the_users_choice_wins(busy):
    assert choose_threads(cores=8, busy=busy, default=8, user=3) == 3
    assert choose_threads(cores=2, busy=busy, default=2, local_world_size=2, user=2) == 2


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"cores": 0}, "cores"),
        ({"default": 1.5}, "default"),
        ({"local_world_size": 0}, "local_world_size"),
        ({"busy": -0.1}, "busy"),
        ({"busy": float("nan")}, "busy"),
        ({"user": 0}, "user"),
    ],
)
def test_choose_threads_names_a_bad_argument(kwargs, name):
    arguments = {"cores": 2, "busy": 0.0, "default": 2, **kwargs}
    with pytest.raises(ValueError, match=f"choose_threads: {name} must be"):
        choose_threads(**arguments)


def test_busy_cpu_seconds_reads_the_cpus_of_the_process():
    stat = (
        "cpu  400 0 200 10000 50 0 0 0 0 0\n"
        "cpu0 100 5 50 5000 20 1 2 3 0 0\n"  # busy: 100+5+50+1+2+3 = 161 ticks
        "cpu1 300 0 150 5000 30 0 0 0 0 0\n"  # busy: 450 ticks
        "intr 12345 0 0\n"
        "procs_running 3\n"
    )
    assert busy_cpu_seconds(stat, [0], 100) == pytest.approx(1.61)
    assert busy_cpu_seconds(stat, {0, 1}, 100) == pytest.approx(6.11)
    with pytest.raises(ValueError, match="no line for the CPUs"):
        busy_cpu_seconds(stat, [5], 100)


def test_busy_cpu_seconds_reads_this_machine():
    path = Path("/proc/stat")
    if not path.exists():
        pytest.skip("no /proc/stat here")
    assert busy_cpu_seconds(path.read_text(), _threads._cpus(), 100) > 0


def test_user_threads_sees_an_explicit_choice(monkeypatch):
    assert user_threads() is None
    torch.set_num_threads(DEFAULT + 1)
    assert user_threads() == DEFAULT + 1
    torch.set_num_threads(DEFAULT)
    monkeypatch.setenv("OMP_NUM_THREADS", str(DEFAULT))
    assert user_threads() == DEFAULT


def test_no_decision_before_the_first_window(other_processes):
    other_processes(OVERLOAD)
    with CpuThreads(first_window=60) as threads:
        threads.update()
        assert torch.get_num_threads() == DEFAULT


def test_busy_machine_gets_one_thread_and_the_count_comes_back(other_processes):
    other_processes(OVERLOAD)
    with CpuThreads(first_window=0.01) as threads:
        time.sleep(0.02)
        threads.update()
        assert torch.get_num_threads() == 1
        other_processes(0)
        time.sleep(0.02)
        threads.update()  # the next decision is due after interval (1 s), not yet
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == DEFAULT


def test_threads_follow_the_load(other_processes):
    with CpuThreads(first_window=0.01, interval=0.2) as threads:
        time.sleep(0.02)
        threads.update()
        assert torch.get_num_threads() == min(DEFAULT, CORES)
        other_processes(OVERLOAD)
        time.sleep(0.25)
        threads.update()
        assert torch.get_num_threads() == 1
        other_processes(0)
        time.sleep(0.25)
        threads.update()
        assert torch.get_num_threads() == min(DEFAULT, CORES)


def test_torchrun_share(other_processes):
    with CpuThreads(first_window=0.01, local_world_size=CORES) as threads:
        time.sleep(0.02)
        threads.update()
        assert torch.get_num_threads() == 1


@pytest.mark.parametrize("how", ["torch.set_num_threads", "OMP_NUM_THREADS", "disabled"])
def test_an_explicit_choice_is_left_alone(other_processes, monkeypatch, how):
    other_processes(OVERLOAD)
    chosen = DEFAULT + 1
    torch.set_num_threads(chosen)
    if how == "OMP_NUM_THREADS":
        monkeypatch.setenv("OMP_NUM_THREADS", str(chosen))
    enabled = how != "disabled"
    if not enabled:
        torch.set_num_threads(DEFAULT)
        chosen = DEFAULT
    with CpuThreads(enabled=enabled, first_window=0.01, interval=0.01) as threads:
        time.sleep(0.02)
        threads.update()
        assert torch.get_num_threads() == chosen
    assert torch.get_num_threads() == chosen


def test_fit_records_the_threads_and_restores_them(other_processes, monkeypatch):
    other_processes(OVERLOAD)
    # Decide at once: this run is shorter than the default first window.
    monkeypatch.setattr(train, "CpuThreads", functools.partial(CpuThreads, first_window=1e-9))
    torch.manual_seed(0)
    history = train.fit(
        get_model("lenet5"), ddp_fit.small_fashion_mnist(), epochs=2, max_train_samples=256,
        device=torch.device("cpu"), progress=False,
    )  # fmt: skip
    assert history.cpu_threads == [1, 1]
    assert torch.get_num_threads() == DEFAULT


@pytest.mark.parametrize("kwargs", [{"local_world_size": 0}, {"interval": 0}, {"first_window": -1}])
def test_cpu_threads_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="CpuThreads: "):
        CpuThreads(**kwargs)
