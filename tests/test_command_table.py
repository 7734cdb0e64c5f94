"""README's "Commands" table is rendered from the click commands (zoo.cli._table), so it
names every option that exists; the table in README.md must be what it renders today."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from zoo._manager import load_plugins
from zoo.cli import create_cli
from zoo.cli._table import BEGIN, END, builtin_table, main, replace_table, synopsis

ROOT = Path(__file__).resolve().parents[1]


def _readme_table() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index(BEGIN) + len(BEGIN) : text.index(END)].strip()


def test_readme_command_table_is_the_rendered_one() -> None:
    assert _readme_table() == builtin_table(), (
        "README.md's command table is stale: run `python -m zoo.cli._table --write README.md`"
    )


def test_every_option_of_every_command_is_in_the_table() -> None:
    table = _readme_table()
    cli = create_cli(load_plugins(third_party=False))
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `zoo (\S+)[^\n]*", table, re.M)}
    assert set(rows) == {n for n, c in cli.commands.items() if not c.hidden}
    for name, command in cli.commands.items():
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden:
                assert re.search(rf"[\[ |]{re.escape(param.opts[0])}\b", rows[name]), (
                    name,
                    param.opts[0],
                )
    # the options issue 18 found missing from the hand-written table
    assert "[--seed N]" in rows["export"] and "[--full\\|--quick\\|--tiny]" in rows["bench"]
    assert "[--atol X] [--rtol X]" in rows["verify"]


def test_synopsis_shapes() -> None:
    @click.command()
    @click.argument("name")
    @click.argument("rest", required=False)
    @click.option("--fast", "mode", flag_value="fast")
    @click.option("--slow", "mode", flag_value="slow")
    @click.option("--n", type=int, required=True)
    @click.option("--tag", multiple=True)
    @click.option("--size", type=click.Choice(["a", "b"]))
    @click.option("--hidden", hidden=True)
    def command(**_: object) -> None:
        """First paragraph
        on two lines.

        More."""

    assert (
        synopsis("x", command)
        == "zoo x NAME [REST] [--fast|--slow] --n N [--tag TAG]... [--size a|b]"
    )


def test_write_replaces_only_the_table(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{BEGIN}\nold\n{END}\nafter\n")
    assert main(["--write", str(readme)]) == 0
    assert readme.read_text() == f"before\n{BEGIN}\n{builtin_table()}\n{END}\nafter\n"
    with pytest.raises(ValueError, match="markers"):
        replace_table("no markers", "table")
