"""The catalogue commands: `zoo list`, `zoo info` and `zoo plugins`.

They work from the plugins' specs and the registry files alone: no torch, onnxruntime or
numpy is imported (`zoo list` is the command people run most).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from zoo._tables import format_table
from zoo.catalog._card import format_metric, format_size
from zoo.catalog._session import App
from zoo.cli._common import (
    command_registry_option,
    echo_json,
    json_option,
    registry_option,
    session,
)
from zoo.cli._complete import complete_model


def _is_artifact(app: App, name: str) -> bool:
    """NAME is an exported file rather than a model name: not a name zoo knows, and a file or
    a name ending with an exporter's suffix (`exports/lstm.onnx`)."""
    if name in app.plugins.architectures or name in app.registry.entries:
        return False
    path = Path(name)
    if path.is_dir():  # a folder of artifacts (not a checkpoint: that takes --checkpoint)
        return not (path / "config.json").exists()
    return path.is_file() or any(name.endswith(e.suffix) for e in app.plugins.exporters.values())


def _look_inside(app: App, checkpoint: Path | None, name: str | None, as_json: bool) -> None:
    """`zoo info --checkpoint DIR` or `zoo info FILE`."""
    from zoo.cli._look import show_artifact, show_checkpoint

    if checkpoint is not None:
        from zoo.checkpoint._describe import describe_checkpoint

        data = describe_checkpoint(checkpoint)
        show = show_checkpoint
    else:
        from zoo.export._describe import describe_artifact

        assert name is not None
        data = describe_artifact(app.plugins.exporters, Path(name))
        show = show_artifact
    if as_json:
        echo_json(data)
    else:
        show(data)


def add_catalog_commands(cli: click.Group) -> None:
    """Add list, info and plugins to the `zoo` group."""

    @cli.command("list")
    @click.argument("patterns", nargs=-1)
    @click.option(
        "--exclude",
        "excludes",
        multiple=True,
        metavar="PATTERN",
        help="Leave out names matching this fnmatch pattern (repeatable).",
    )
    @click.option("--trained", is_flag=True, help="Only models with trained weights.")
    @click.option(
        "--markdown",
        is_flag=True,
        help="The trained models' cards as a Markdown table (the README's table).",
    )
    @registry_option("Also list this registry TOML file's models (repeatable).")
    @json_option
    @click.pass_context
    def list_(
        ctx: click.Context,
        patterns: tuple[str, ...],
        excludes: tuple[str, ...],
        trained: bool,
        markdown: bool,
        registries: tuple[Path, ...],
        as_json: bool,
    ) -> None:
        """Named models, optionally filtered by fnmatch PATTERNS (e.g. 'lstm*'; a name
        matching any is kept, as in timm's list_models), with parameter counts and a trained
        model's test metric and baseline: registry entries, and every installed architecture
        no entry is named after, at its defaults.

        Every installed architecture is a model too (at its defaults): one that no registry
        entry names is listed under its own name, so a plugin's model shows (and exports by
        name) the moment the plugin is installed. A trained model with a card shows its
        metric on the test split and the baseline's on the same split.

        \b
        zoo list --trained
        zoo list 'ucr*' --exclude '*vowels*'
        zoo list --trained --markdown          # the README's table
        """
        app = session(ctx)
        if registries:
            app = App(app.plugins, [*app.extra_registries, *registries])
        names = app.model_names(patterns, excludes, trained or markdown)
        rows = [app.resolve(name).summary() for name in names]
        if as_json:
            echo_json(rows)
            return
        if markdown:
            click.echo(markdown_table(rows), nl=False)
            return
        if not rows:
            what = " ".join(repr(p) for p in patterns) or "the filters"
            click.echo(f"No model matches {what}. Run `zoo list` for all.")
            return
        headers = ["NAME", "ARCH", "PLUGIN", "PARAMS"]
        carded = any(r["card"] for r in rows)
        if carded:
            headers += ["METRIC", "BASELINE"]
        table = [
            (
                r["name"],
                r["architecture"],
                r["plugin"],
                r["num_params"],
                *(_card_cells(r["card"]) if carded else ()),
                r["description"],
            )
            for r in rows
        ]
        click.echo(format_table((*headers, "DESCRIPTION"), table))

    @cli.command()
    @click.argument("name", required=False, metavar="NAME|FILE", shell_complete=complete_model)
    @click.option(
        "--checkpoint",
        type=click.Path(path_type=Path),
        help="Describe a checkpoint folder written by `zoo train` instead of a model NAME.",
    )
    @command_registry_option
    @json_option
    @click.pass_context
    def info(ctx: click.Context, name: str | None, checkpoint: Path | None, as_json: bool) -> None:
        """Describe model NAME (config, I/O contract with shapes, parameter count, lengths
        and streaming support, a trained model's card: data set, test metric, baseline,
        recipe, sizes), a --checkpoint DIR (also its data, training, metrics,
        digest and size) or an exported FILE (contract, provenance, parity, size: read
        from its zoo metadata; nothing in the file is run).

        \b
        zoo info bilstm
        zoo info --checkpoint runs/lstm
        zoo info exports/lstm-trained.onnx --json
        """
        if (name is None) == (checkpoint is None):
            raise click.UsageError("Give a model NAME, an exported FILE or --checkpoint DIR.")
        app = session(ctx)
        if checkpoint is not None or (name is not None and _is_artifact(app, name)):
            _look_inside(app, checkpoint, name, as_json)
            return
        assert name is not None
        data = app.resolve(name).describe()
        if as_json:
            echo_json(data)
            return
        click.echo(f"{data['name']}: {data['description']}")
        click.echo(f"  architecture  {data['architecture']} (plugin {data['plugin']})")
        click.echo(
            f"  parameters    {data['num_params'] if data['num_params'] is not None else '-'}"
        )
        if data["checkpoint"]:
            click.echo(f"  checkpoint    {data['checkpoint']} (sha256 {data['sha256']})")
        if data["card"]:
            for line in card_lines(data["card"]):
                click.echo(line)
        click.echo("  config")
        for key, value in data["config"].items():
            click.echo(f"    {key:<14}{value}")
        for section in ("inputs", "outputs"):
            click.echo(f"  {section}")
            for tname, t in data["io"][section].items():
                dims = ", ".join(str(d) for d in t["shape"])
                click.echo(f"    {tname:<8}({dims}) {t['dtype']}")
        click.echo(f"  dynamic axes  {', '.join(data['io']['dynamic_axes'])}")
        lengths = "yes (zoo export --lengths)" if data["supports_lengths"] else "no"
        click.echo(f"  lengths input {lengths}")
        click.echo(f"  streaming     {data['streaming']}")

    @cli.command("plugins")
    @json_option
    @click.pass_context
    def plugins_(ctx: click.Context, as_json: bool) -> None:
        """Each plugin: distribution, version, hooks, what it registered; then every exporter
        with its file suffix and description."""
        loaded = session(ctx).plugins
        archs = loaded.architectures
        exporters = loaded.exporters
        sources = loaded.datasets
        rows = []
        for info in loaded.infos.values():
            row = info.to_dict()
            row["architectures"] = sorted(a for a, s in archs.items() if s.plugin == info.name)
            row["exporters"] = sorted(e for e, s in exporters.items() if s.plugin == info.name)
            row["datasets"] = [d for d, s in sources.items() if s.plugin == info.name]
            rows.append(row)
        formats = [
            {"name": e.name, "suffix": e.suffix, "plugin": e.plugin, "description": e.description}
            for e in sorted(exporters.values(), key=lambda e: e.name)
        ]
        if as_json:
            problems = [str(p) for p in loaded.problems]
            echo_json({"plugins": rows, "exporters": formats, "problems": problems})
            return
        table = [
            (
                r["name"],
                f"{r['distribution']} {r['version']}",
                ", ".join(r["architectures"] + r["exporters"] + _short(r["datasets"])) or "-",
                ", ".join(r["hooks"]),
            )
            for r in rows
        ]
        click.echo(format_table(("PLUGIN", "DISTRIBUTION", "PROVIDES", "HOOKS"), table))
        click.echo()
        listed = [(f["name"], f["suffix"], f["plugin"], f["description"]) for f in formats]
        click.echo(format_table(("EXPORTER", "SUFFIX", "PLUGIN", "DESCRIPTION"), listed))


def _card_cells(card: dict[str, Any] | None) -> tuple[str, str]:
    if card is None:
        return "-", "-"
    return (
        format_metric(card["metric"], card["value"]),
        f"{card['baseline']} {card['baseline_value']:.4g}",
    )


def card_lines(card: dict[str, Any]) -> list[str]:
    """The card's part of `zoo info`."""
    verdict = "beats baseline" if card["beats_baseline"] else "misses baseline"
    return [
        "  card",
        f"    dataset     {card['dataset']} ({card['split']} split, {card['task']})",
        f"    metric      {format_metric(card['metric'], card['value'])} ({verdict})",
        f"    baseline    {card['baseline']}: "
        f"{format_metric(card['metric'], card['baseline_value'])}",
        f"    recipe      zoo {' '.join(card['recipe'])}",
        f"    reproduce   zoo train --recipe NAME --out DIR ({card['threads']} thread(s), "
        f"torch {card['torch']})",
        f"    params      {card['params']}",
        f"    file size   {format_size(card['file_size'])}",
    ]


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The trained models as a Markdown table: `zoo list --trained --markdown`, pasted
    into README.md (a test keeps the two the same)."""
    lines = [
        "| Model | Data (split) | Task | Arch | Metric | Baseline | Verdict | Params | Size |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        card = r["card"]
        if card is None:
            continue
        verdict = "beats baseline" if card["beats_baseline"] else "**misses baseline**"
        lines.append(
            f"| `{r['name']}` | {card['dataset']} ({card['split']}) | {card['task']} "
            f"| {r['architecture']} | {format_metric(card['metric'], card['value'])} "
            f"| {card['baseline']}: {card['baseline_value']:.4g} | {verdict} "
            f"| {card['params']} | {format_size(card['file_size'])} |"
        )
    return "\n".join(lines) + "\n"


def _short(datasets: list[str]) -> list[str]:
    """Data sets as `zoo plugins` shows them: a provider's sets under one prefix
    ('ucr:{GunPoint,...}'), so a plugin with many stays on one line."""
    groups: dict[str, list[str]] = {}
    for name in datasets:
        prefix, _, rest = name.rpartition(":")
        groups.setdefault(prefix, []).append(rest)
    return [
        f"{prefix}:{{{','.join(names)}}}" if prefix else ", ".join(names)
        for prefix, names in groups.items()
    ]
