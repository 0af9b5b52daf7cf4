"""The rehearsal's local services on their own, through the same client code the notebooks use:
huggingface_hub against the local Hub, urllib through the web mirror (tools/rehearsal)."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request

import pytest
from huggingface_hub import HfApi, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError

from tools.rehearsal.hub import LocalHub, Repository
from tools.rehearsal.web import WebMirror


@pytest.fixture
def hub(tmp_path, monkeypatch):
    # The test run keeps huggingface_hub offline; these tests talk to a Hub on loopback on purpose.
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    (tmp_path / "config.json").write_text('{"model_type": "stand-in"}')
    (tmp_path / "extra.bin").write_bytes(b"\0" * 10)
    repo = Repository("org/model", "model", {"config.json": tmp_path / "config.json",
                                              "sub/extra.bin": tmp_path / "extra.bin"},
                      frozenset({"config.json", "sub/extra.bin", "tokenizer.json"}))
    with LocalHub([repo]) as running:
        yield running


def test_local_hub_serves_a_file_to_hf_hub_download(hub, tmp_path):
    path = hf_hub_download("org/model", "config.json", endpoint=hub.endpoint, cache_dir=tmp_path / "cache")
    assert open(path).read() == '{"model_type": "stand-in"}'
    assert [r.status for r in hub.take_log() if "/resolve/" in r.path] == [200, 200]  # HEAD, then GET
    assert hub.take_log() == []  # taking the log empties it


def test_local_hub_lists_the_repository_like_the_hub(hub):
    api = HfApi(endpoint=hub.endpoint)
    assert sorted(api.list_repo_files("org/model")) == ["config.json", "sub/extra.bin"]
    assert api.model_info("org/model").sha == hub.repositories[("model", "org/model")].sha


def test_local_hub_answers_missing_files_and_repositories_with_the_hubs_errors(hub, tmp_path):
    with pytest.raises(EntryNotFoundError):
        hf_hub_download("org/model", "tokenizer.json", endpoint=hub.endpoint, cache_dir=tmp_path)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download("org/other", "config.json", endpoint=hub.endpoint, cache_dir=tmp_path)
    notes = [r.note for r in hub.take_log()]
    assert any(note.startswith("not served: org/model/tokenizer.json") for note in notes)  # the real one has it
    assert any(note.startswith("outside the contract: model repository 'org/other'") for note in notes)


def test_web_mirror_answers_https_urls_through_the_proxy_setting(tmp_path):
    (tmp_path / "train.txt").write_text("# playlists\n1 2 3\n")
    files = {"https://data.example/set/train.txt": tmp_path / "train.txt"}
    with WebMirror(files, tmp_path, known={"https://data.example/set/counter.py"}) as web:
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({"https": web.proxy}),
            urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(web.ca_file))))
        assert opener.open("https://data.example/set/train.txt", timeout=10).read() == b"# playlists\n1 2 3\n"
        for url in ("https://data.example/set/counter.py", "https://data.example/set/other.txt"):
            with pytest.raises(urllib.error.HTTPError) as error:
                opener.open(url, timeout=10)
            assert error.value.code == 404
        notes = [r.note for r in web.take_log()]
    assert notes[0] == ""
    assert notes[1] == "absent: https://data.example/set/counter.py"  # listed in the contract: no violation
    assert notes[2].startswith("outside the contract: https://data.example/set/other.txt")


@pytest.mark.parametrize("variant", ["F16", "Q4_0"])
def test_phi3_gguf_standin_is_a_phi3_that_ends_its_answer(variant):
    # What the local Hub serves for Phi-3's GGUF names (chapters 5 and 7): the phi3 architecture with
    # Phi-3's vocabulary and chat template, answering a short sentence that ends on <|end|>, its digit
    # depending on the prompt (chapter 5 labels topics greedily and draws a map of distinct labels).
    import re

    llama_cpp = pytest.importorskip("llama_cpp")
    from tools.rehearsal.standins import PHI3_STANDIN_ANSWER, answering_phi3_gguf

    llm = llama_cpp.Llama(model_path=str(answering_phi3_gguf(variant)), n_ctx=512, seed=42, verbose=False)
    assert llm.metadata["general.architecture"] == "phi3"
    assert "<|assistant|>" in llm.metadata["tokenizer.chat_template"]
    pattern = re.escape(PHI3_STANDIN_ANSWER).replace("N", "[0-9]")
    answers = []
    for words in ("football, goals, league", "election, labour, minister", "film, actor, oscar",
                  "phone, software, broadband", "shares, profit, bank"):
        prompt = f"<|user|>\nDocuments about {words}. Give the topic a short label.<|end|>\n<|assistant|>"
        choice = llm.create_completion(prompt, max_tokens=500, temperature=0.0)["choices"][0]
        assert re.fullmatch(pattern, choice["text"].strip()) and choice["finish_reason"] == "stop", choice
        answers.append(choice["text"])
    assert len(set(answers)) > 1, answers
