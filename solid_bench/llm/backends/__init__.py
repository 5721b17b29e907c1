"""Backend plugins, one file each (transformers, llama-cpp, openai, vllm, fake)."""
