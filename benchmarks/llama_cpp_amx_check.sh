#!/usr/bin/env bash
# Does a llama.cpp build crash on quantized GGUFs on this CPU? Compares two builds of
# llama-cpp-python 0.3.36 on the machine it runs on (results: benchmarks/results/llama-cpp-amx.md).
#
#   DIR/llama_cpp_python-*.whl   our build (tools/llama_build.py: GGML_NATIVE=OFF, AVX2/AVX-512 on, AMX off)
#   DIR/amx-libggml-cpu.so       the CPU backend of the same source built by GCC 12 with
#                                -DGGML_AMX_TILE=ON -DGGML_AMX_INT8=ON (what a native build gives on an AMX CPU)
#   DIR/diskcache-*.whl, DIR/*.gguf   a dependency, and tiny Phi-3 GGUFs (llmbook.offline.phi3_gguf)
#
#   bash benchmarks/llama_cpp_amx_check.sh DIR
set -u
dir=${1:?usage: $0 DIR}
cd "$dir"
echo "== CPU"; grep -m1 "model name" /proc/cpuinfo; nproc
echo "amx flags: $(grep -o -E 'amx_[a-z0-9]+' /proc/cpuinfo | sort -u | tr '\n' ' ')"
python3 --version
python3 -m pip install -q --no-index --no-deps --target /tmp/fixed llama_cpp_python-*.whl diskcache-*.whl || exit 1
rm -rf /tmp/amx && cp -r /tmp/fixed /tmp/amx
for f in $(find /tmp/amx -name 'libggml-cpu.so*'); do cp amx-libggml-cpu.so "$f"; done
probe='import sys, llama_cpp
llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=256, n_threads=4, seed=0, verbose=False)
out = llm("The capital of France is", max_tokens=4, temperature=0.0)
print("generated", out["usage"]["completion_tokens"], "tokens:", repr(out["choices"][0]["text"]))'
for variant in fixed amx; do
  echo "== $variant build"
  PYTHONPATH=/tmp/$variant python3 -c "import llama_cpp; print(llama_cpp.llama_print_system_info().decode())"
  for gguf in *q4_0.gguf *q8_0.gguf *f16.gguf; do
    PYTHONPATH=/tmp/$variant timeout 120 python3 -c "$probe" "$gguf" > /tmp/out.txt 2>&1
    echo "$variant $gguf: exit $? $(tail -1 /tmp/out.txt)"
  done
done
