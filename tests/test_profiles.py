"""Profile resolution, the substitution table and their error messages."""

import socket
import time

import pytest

import llmbook.models as models
import llmbook.profiles as profiles
from llmbook import ProfileError, get_profile, pick_model
from llmbook.substitutions import OFFLINE_KINDS, SUBSTITUTIONS, find

PHI3 = "microsoft/Phi-3-mini-4k-instruct"


@pytest.fixture
def machine(monkeypatch):
    """Pretend to be a machine with or without CUDA and the Hub."""

    def set_machine(cuda: bool, hub: bool, profile: str | None = None):
        monkeypatch.setattr(profiles, "cuda_available", lambda: cuda)
        monkeypatch.setattr(profiles, "hub_reachable", lambda *args, **kwargs: hub)
        if profile is None:
            monkeypatch.delenv(profiles.ENV_VAR, raising=False)
        else:
            monkeypatch.setenv(profiles.ENV_VAR, profile)

    return set_machine


@pytest.mark.parametrize("profile", profiles.PROFILES)
def test_each_valid_profile_is_taken_as_given(machine, profile):
    machine(cuda=True, hub=True, profile=profile)
    assert get_profile() == profile


def test_profile_value_is_case_and_space_insensitive(machine):
    machine(cuda=False, hub=False, profile="  Offline ")
    assert get_profile() == "offline"


@pytest.mark.parametrize(
    ("cuda", "hub", "expected"),
    [(True, True, "gpu"), (True, False, "gpu"), (False, True, "cpu"), (False, False, "offline")],
)
def test_unset_profile_follows_the_machine(machine, cuda, hub, expected):
    machine(cuda=cuda, hub=hub)
    assert get_profile() == expected


def test_unknown_profile_lists_the_valid_ones(machine):
    machine(cuda=False, hub=False, profile="tpu")
    with pytest.raises(ProfileError) as error:
        get_profile()
    for name in profiles.PROFILES:
        assert name in str(error.value)
    assert "'tpu'" in str(error.value)


def test_gpu_without_cuda_names_the_profile_to_use(machine):
    machine(cuda=False, hub=True, profile="gpu")
    with pytest.raises(ProfileError, match="LLMBOOK_PROFILE=cpu"):
        get_profile()


def test_cpu_without_hub_names_the_offline_profile(machine):
    machine(cuda=False, hub=False, profile="cpu")
    with pytest.raises(ProfileError, match="LLMBOOK_PROFILE=offline"):
        get_profile()


def test_pick_model_per_profile(machine):
    row = find(PHI3)
    machine(cuda=True, hub=True, profile="gpu")
    assert pick_model(PHI3) == PHI3
    machine(cuda=False, hub=True, profile="cpu")
    assert pick_model(PHI3) == row.cpu != PHI3


@pytest.mark.parametrize("profile", profiles.PROFILES)
def test_unknown_model_id_lists_the_known_ones(machine, profile):
    machine(cuda=True, hub=True, profile=profile)
    with pytest.raises(ProfileError) as error:
        pick_model("someone/unknown-model")
    assert "someone/unknown-model" in str(error.value)
    for row in SUBSTITUTIONS:
        assert row.book in str(error.value)


def test_hub_file_uses_the_row_of_repo_and_filename(machine, monkeypatch):
    machine(cuda=False, hub=False, profile="offline")
    monkeypatch.setattr(models, "build_offline", lambda row: f"built:{row.book}")
    repo = "microsoft/Phi-3-mini-4k-instruct-gguf"
    assert models.hub_file(repo, "Phi-3-mini-4k-instruct-fp16.gguf") == f"built:{repo}/Phi-3-mini-4k-instruct-fp16.gguf"
    with pytest.raises(ProfileError, match="unknown model id"):
        models.hub_file(repo, "no-such-file.gguf")


@pytest.mark.parametrize("offload, expected", [(True, "Phi-3-mini-4k-instruct-fp16.gguf"),
                                               (False, "Phi-3-mini-4k-instruct-q4.gguf")])
def test_gpu_profile_loads_the_4bit_gguf_when_llama_cpp_cannot_offload(machine, monkeypatch, capsys, offload, expected):
    # A CPU-only llama.cpp on a T4 would run the 7.6 GB fp16 file on two vCPUs: the q4 file instead, said aloud.
    import huggingface_hub

    machine(cuda=True, hub=True, profile="gpu")
    monkeypatch.setattr(models, "llama_gpu_offload", lambda: offload)
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", lambda repo_id, filename: f"{repo_id}/{filename}")
    repo = "microsoft/Phi-3-mini-4k-instruct-gguf"
    assert models.hub_file(repo, "Phi-3-mini-4k-instruct-fp16.gguf") == f"{repo}/{expected}"
    said = capsys.readouterr().out
    assert ("llama_supports_gpu_offload() 為 False" in said) == (not offload)
    # rows without the field, and the cpu profile, never ask
    machine(cuda=False, hub=True, profile="cpu")
    monkeypatch.setattr(models, "llama_gpu_offload", lambda: pytest.fail("asked outside the gpu profile"))
    assert models.hub_file(repo, "Phi-3-mini-4k-instruct-fp16.gguf") == f"{repo}/Phi-3-mini-4k-instruct-q4.gguf"


def test_llama_gpu_offload_reads_the_installed_build():
    llama_cpp = pytest.importorskip("llama_cpp")
    assert models.llama_gpu_offload() == bool(llama_cpp.llama_supports_gpu_offload())


@pytest.fixture
def loopback_port():
    """A port on loopback that accepts connections, standing in for the Hub."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.fixture
def probe(monkeypatch):
    """hub_reachable as the default profile uses it: HF_HUB_OFFLINE unset, nothing cached; call it
    with a port to probe a Hub at http://127.0.0.1:<port> (HF_ENDPOINT, the libraries' own switch)."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    profiles.host_reachable.cache_clear()

    def probe_port(port: int, timeout: float = 2.0) -> bool:
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        return profiles.hub_reachable(timeout=timeout)

    yield probe_port
    profiles.host_reachable.cache_clear()


def test_hub_probe_sees_a_listening_host(probe, loopback_port):
    assert probe(loopback_port) is True


def test_hub_probe_answers_fast_when_refused(probe):
    with socket.socket() as closed:  # a port that surely refuses: bound, never listening
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        started = time.monotonic()
        assert probe(port) is False
    assert time.monotonic() - started < profiles.HUB_PROBE_TIMEOUT_S


def test_hub_probe_respects_hf_hub_offline_without_asking_the_network(probe, monkeypatch, loopback_port):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert probe(loopback_port) is False  # reachable, yet offline was asked for


def test_hub_probe_asks_the_endpoint_the_libraries_use(monkeypatch):
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    assert profiles.hub_address() == ("huggingface.co", 443)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:8123/")
    assert profiles.hub_address() == ("127.0.0.1", 8123)
    monkeypatch.setenv("HF_ENDPOINT", "https://hf-mirror.example")
    assert profiles.hub_address() == ("hf-mirror.example", 443)


def test_cpu_error_names_the_endpoint_it_could_not_reach(monkeypatch):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("LLMBOOK_PROFILE", "cpu")
        profiles.host_reachable.cache_clear()
        with pytest.raises(ProfileError, match=f"127.0.0.1:{port}.*LLMBOOK_PROFILE=offline"):
            profiles.get_profile()
    profiles.host_reachable.cache_clear()


def test_gpu_without_cuda_only_when_asked(monkeypatch):
    monkeypatch.setattr(profiles, "cuda_available", lambda: False)
    monkeypatch.setenv("LLMBOOK_PROFILE", "gpu")
    monkeypatch.delenv(profiles.GPU_WITHOUT_CUDA_VAR, raising=False)
    with pytest.raises(ProfileError, match="LLMBOOK_PROFILE=cpu"):
        profiles.get_profile()
    monkeypatch.setenv(profiles.GPU_WITHOUT_CUDA_VAR, "1")
    assert profiles.get_profile() == "gpu"
    assert profiles.get_device() == "cpu"  # the device stays what the machine has


def test_table_rows_are_well_formed():
    books = [row.book for row in SUBSTITUTIONS]
    assert len(books) == len(set(books)), "duplicate book ids in the table"
    for row in SUBSTITUTIONS:
        assert row.offline_kind in OFFLINE_KINDS, row.book
        assert set(row.chapters) <= {1, 2, 3, 5, 7, 9}, row.book
        assert ":" in row.offline, row.book
        assert row.cpu_source.startswith("https://"), f"{row.book}: give the public page of what the cpu profile loads"
        if row.cpu != row.book:
            assert row.why, f"{row.book}: say why the cpu profile swaps it"
