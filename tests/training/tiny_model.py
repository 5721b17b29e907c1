"""A tiny random Llama with a byte-level BPE tokenizer and a chat template, saved to a folder (tests only)."""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}<|end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SPECIAL = ["<|pad|>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
CORPUS = [
    "[user|OQ] how do i reset my outlook password ? [agent|PA] go to settings and choose reset",
    "Entity: Outlook Entity type: software Attribute: password Quality: high low Intents: Write a dialog",
    "exactly utterances one per line in this order Start each line with its tag as shown then one space",
    "Original Question Potential Answer Further Details Positive Feedback Clarifying Question Information Request",
    "You write realistic information-seeking dialogs between a user and an agent on a technical support forum.",
    "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ .,:;!?'\"()[]{}|_-+=/\\<>@#$%^&*~`",
]


def build_tiny_model(folder: Path, seed: int = 0) -> Path:
    """Write a ~100k-parameter LlamaForCausalLM and its tokenizer into ``folder``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=SPECIAL, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(CORPUS * 4, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<|pad|>", eos_token="<|end|>")
    fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
        pad_token_id=fast.pad_token_id, eos_token_id=fast.eos_token_id, bos_token_id=None,
    )
    model = LlamaForCausalLM(config)
    folder = Path(folder)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder
