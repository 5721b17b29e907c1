"""Fine-tuning SOLID-RL: SFT then DPO on SOLID dialogs, one call per whole dialog (TRL, optional PEFT).

``train_generator(config)`` in ``pipeline`` runs the whole recipe; ``data``, ``sft``, ``dpo`` and
``card`` are its steps. torch, transformers, trl and peft are imported inside functions only.
"""
