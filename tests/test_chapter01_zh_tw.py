"""繁中實戰 in chapters 1 and 7: the zh-TW measurements, the offline Gemma 3 270M, and the notebook cells."""

import json
import time
from pathlib import Path

import pytest
import torch
from gguf import GGUFReader

from llmbook.offline.gemma3 import GGUF_SHA256, build_gemma3, gemma3_gguf, sha256_of
from llmbook.zh_tw import mainland_terms, script_report, simplified_only, to_taiwan

ROOT = Path(__file__).resolve().parents[1]


def cell_source(notebook: str, cell_id: str) -> str:
    cells = json.loads((ROOT / notebook).read_text(encoding="utf-8"))["cells"]
    return "".join(next(cell for cell in cells if cell["id"] == cell_id)["source"])


def test_simplified_only_characters_and_allowed_variants():
    assert simplified_only("我们用软件处理数据") == ["们", "软", "处", "数", "据"]
    assert simplified_only("我們在台灣用軟體處理資料") == []  # 台 is Taiwan's own variant of 臺
    report = script_report("我们用软件，abc！")
    assert (report["漢字數"], report["簡體字"]) == (5, 2)
    assert report["簡體字比例"] == pytest.approx(0.4)


def test_mainland_terms_are_counted_per_occurrence():
    assert mainland_terms("數據和數據，還有信息") == ["信息", "數據", "數據"]
    assert script_report("用軟件看視頻")["每千字大陸用語"] == pytest.approx(1000 * 2 / 6)
    assert script_report("")["簡體字比例"] == 0.0


def test_s2twp_fixes_characters_and_listed_terms_but_changes_correct_words_too():
    fixed = to_taiwan("我们用软件处理数据")
    assert fixed == "我們用軟體處理資料"
    assert script_report(fixed)["簡體字"] == 0 and mainland_terms(fixed) == []
    # The caveat the notebooks state: a restaurant's 菜單 becomes a software 選單, 台灣 becomes 臺灣 ...
    assert to_taiwan("餐廳的菜單") == "餐廳的選單"
    assert to_taiwan("打開、保存") == "開啟、儲存"
    assert to_taiwan("台灣") == "臺灣"
    # ... and a term outside its table stays: 質量 (quality) is still flagged after the conversion.
    assert mainland_terms(to_taiwan("質量很好")) == ["質量"]


def test_gemma3_gguf_is_the_pretrained_270m_model_with_the_checked_sha256():
    path = gemma3_gguf()
    assert sha256_of(path) == GGUF_SHA256
    fields = GGUFReader(path).fields
    assert fields["general.name"].contents() == "Gemma 3 270m"
    assert fields["general.license"].contents() == "gemma"
    assert fields["general.architecture"].contents() == "gemma3"
    assert "tokenizer.chat_template" not in fields  # pretrained, not the -it model: the notebooks say so
    assert len(fields["tokenizer.ggml.tokens"].data) == 262144


def test_gemma3_offline_model_continues_traditional_chinese():
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = build_gemma3()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder)
    assert type(model).__name__ == "Gemma3ForCausalLM" and tokenizer.chat_template is None
    assert 260e6 < model.num_parameters() < 280e6
    ids = tokenizer("台灣的夜市", return_tensors="pt")
    out = model.generate(**ids, max_new_tokens=12, do_sample=False)
    text = tokenizer.decode(out[0, ids.input_ids.shape[1]:], skip_special_tokens=True)
    assert script_report(text)["漢字數"] >= 5  # it writes Chinese, not English or bytes


def test_chapter01_cells_run_on_a_tiny_llama_with_the_real_llama3_tokenizer():
    # gpu/cpu load a LlamaForCausalLM (Llama-3.2-Taiwan-3B): the notebook's generation and measuring
    # cells run here on a tiny model of that class with the real Llama 3 vocabulary.
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM, pipeline

    from llmbook.offline.vocabularies import llama3_tokenizer

    tokenizer = AutoTokenizer.from_pretrained(llama3_tokenizer())
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256)
    namespace = {"taiwan_model": LlamaForCausalLM(config), "taiwan_tokenizer": tokenizer, "pipeline": pipeline,
                 "time": time, "book_model_text": "我们用软件处理数据"}
    exec(cell_source("chapter01/chapter01_introduction.ipynb", "cell-zh1b"), namespace)
    assert namespace["zh_prompt"].startswith("以下是一篇") and not simplified_only(namespace["zh_prompt"])
    exec(cell_source("chapter01/chapter01_introduction.ipynb", "cell-zh1g").replace("max_new_tokens=150", "max_new_tokens=5"),
         namespace)
    assert isinstance(namespace["taiwan_text"], str) and namespace["taiwan_seconds"] > 0
    exec(cell_source("chapter01/chapter01_introduction.ipynb", "cell-zh1i"), namespace)


def test_chapter07_chain_and_memory_cells_on_a_fake_llm():
    from langchain_core.language_models.fake import FakeListLLM
    from langchain_core.prompts import PromptTemplate

    namespace = {"PromptTemplate": PromptTemplate,
                 "zh_llm": FakeListLLM(responses=["台北捷運很方便。", "你好，美玲。", "你叫美玲，住在高雄。"])}
    notebook = "chapter07/chapter07_langchain_llama_cpp.ipynb"
    for cell_id in ("cell-zh7d", "cell-zh7f", "cell-zh7h"):
        exec(cell_source(notebook, cell_id), namespace)
    assert namespace["zh_answer"] == "台北捷運很方便。"
    buffer = namespace["zh_memory"].buffer
    # the second turn's prompt carried the first: both turns are in the memory, with the Chinese prefixes
    assert buffer.splitlines()[:2] == ["使用者: 你好，我叫美玲，住在高雄。", "助理: 你好，美玲。"]
    assert "使用者: 你還記得我叫什麼名字、住在哪裡嗎？" in buffer and namespace["zh_second"] == "你叫美玲，住在高雄。"
    assert "使用者" in cell_source(notebook, "cell-zh7b")  # the stop word that ends the assistant's turn
