"""`solid-bench models`: the named local models (list) and the file a backend loads for one (path)."""

from __future__ import annotations

import typer

from . import app

models_app = typer.Typer(help="List the named local generator models and locate their files.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@models_app.command("list")
def list_models() -> None:
    """Show each named model: whether it is installed, what it is, and how to install it."""
    from ..llm.local_models import MODELS

    rows = [("name", "status", "model", "install")]
    rows += [(name, m.gguf.installed(), m.title, m.gguf.install) for name, m in MODELS.items()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[3])


@models_app.command("path")
def model_path(
    name: str = typer.Argument(..., help="A named model, e.g. qwen2.5-coder-1.5b."),
    transformers: bool = typer.Option(False, "--transformers", help="The transformers folder (dequantised once) instead of the GGUF."),
) -> None:
    """Print the model's GGUF file (assembled and verified on first use), or its transformers folder."""
    from ..llm.local_models import MODELS

    model = MODELS.get(name)
    typer.echo(str(model.transformers_path() if transformers else model.gguf_path()))
