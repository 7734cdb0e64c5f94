"""Sections `cli` and `cli-scale`: how long `zoo list` takes to start, and whether it stays
in its class of speed with 20 more plugins and a registry of 1,000 entries.

`cli` compares `zoo list` with a bare `python -c "import click, pluggy"`: the two libraries
the CLI cannot do without, so the ratio is what zoo itself adds. `cli-scale` installs
20 fake plugin distributions (dist-info entry points on PYTHONPATH in a temp dir, as
tests/test_plugin_hygiene.py does), each registering an architecture, plus a registry file
of 1,000 entries over them (`ZOO_REGISTRY`), and compares with the plain `zoo list`.
"""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING

from zoo.bench._report import TIMED_HEADERS, Goal, SectionResult, compare_timed
from zoo.bench._timing import child_env, time_commands
from zoo.catalog import _tomlcache as tomlcache

if TYPE_CHECKING:
    from zoo.bench._config import BenchConfig

#: (plugins, registry entries) of the scaled install, per mode.
SCALE = {"tiny": (3, 100), "quick": (20, 1000), "full": (20, 1000)}
REPEATS = {"tiny": 3, "quick": 15, "full": 25}

_PLUGIN = '''\
"""A fake zoo plugin written by `zoo bench` (section cli-scale)."""
from functools import partial

import zoo
from zoo._spec import recurrent_num_params


def build(**config):
    raise RuntimeError("the benchmark never builds this model")


@zoo.hookimpl
def register_architectures(register):
    register(
        zoo.Architecture(
            name="{arch}",
            build=build,
            defaults={{"input_size": 10, "hidden_size": 20, "num_layers": 1, "output_size": 1}},
            states=("h", "c"),
            num_params=partial(recurrent_num_params, gates=4, bidirectional=False),
            description="benchmark plugin {index}",
        )
    )
'''


def zoo_command() -> list[str]:
    """The `zoo` console script of this interpreter's environment, else `python -m zoo`."""
    script = Path(sys.executable).with_name("zoo")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "zoo"]


def write_scaled_install(root: Path, plugins: int, entries: int) -> tuple[Path, Path]:
    """Fake plugin distributions in `root/site` and a registry of `entries` over them."""
    site = root / "site"
    site.mkdir(parents=True, exist_ok=True)
    for index in range(plugins):
        module = f"zoobench_plugin_{index:02d}"
        arch = f"bench{index:02d}"
        (site / f"{module}.py").write_text(_PLUGIN.format(arch=arch, index=index))
        info = site / f"zoobench_plugin_{index:02d}-1.0.dist-info"
        info.mkdir(exist_ok=True)
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: zoobench-plugin-{index:02d}\nVersion: 1.0\n"
        )
        (info / "entry_points.txt").write_text(f"[zoo]\n{arch} = {module}\n")
    lines = []
    for i in range(entries):
        lines.append(
            textwrap.dedent(
                f"""\
                [models.bench-{i:04d}]
                architecture = "bench{i % plugins:02d}"
                description = "benchmark entry {i}"
                tags = ["bench"]
                config = {{ hidden_size = {16 + i % 64}, num_layers = {1 + i % 3} }}
                """
            )
        )
    registry = root / "registry.toml"
    registry.write_text("\n".join(lines))
    return site, registry


def run_cli(config: BenchConfig) -> SectionResult:
    """`zoo list` against a bare `import click, pluggy`, interleaved."""
    env = child_env({"ZOO_CACHE_DIR": str(config.workdir / "cache")})
    bare = "python -c 'import click, pluggy'"
    commands = {
        bare: ([sys.executable, "-c", "import click, pluggy"], env),
        "zoo list": ([*zoo_command(), "list"], env),
    }
    times = time_commands(commands, REPEATS[config.mode], cwd=config.workdir)
    rows, records, ratios = compare_timed(times, bare)
    return SectionResult(
        "cli",
        "CLI start: `zoo list` vs the libraries it needs",
        TIMED_HEADERS,
        rows,
        records,
        [Goal("cli", "zoo list vs import click, pluggy", 2.0, True, ratios["zoo list"])],
        [
            "wall time of whole processes; bytecode caches written by a warm-up run; "
            "third-party plugins installed here are loaded as for any user"
        ],
    )


def run_cli_scale(config: BenchConfig) -> SectionResult:
    """`zoo list` with many plugins and entries against the plain `zoo list`."""
    plugins, entries = SCALE[config.mode]
    site, registry = write_scaled_install(config.workdir / "cli-scale", plugins, entries)
    # A registry file changed in the last seconds is parsed but not cached (zoo.catalog._tomlcache);
    # users run `zoo list` on files that have settled, so let this one settle first.
    time.sleep(tomlcache.RACY_NS / 1e9)
    cache = {"ZOO_CACHE_DIR": str(config.workdir / "cache")}
    pythonpath = os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])
    plain_env = child_env(cache)
    scaled_env = child_env({**cache, "PYTHONPATH": pythonpath, "ZOO_REGISTRY": str(registry)})
    scaled = f"zoo list (+{plugins} plugins, +{entries} entries)"
    commands = {
        "zoo list": ([*zoo_command(), "list"], plain_env),
        scaled: ([*zoo_command(), "list"], scaled_env),
    }
    times = time_commands(commands, REPEATS[config.mode], cwd=config.workdir)
    rows, records, ratios = compare_timed(times, "zoo list")
    return SectionResult(
        "cli-scale",
        f"`zoo list` with {plugins} more plugins and {entries} more registry entries",
        TIMED_HEADERS,
        rows,
        records,
        [
            Goal(
                "cli-scale",
                f"zoo list +{plugins} plugins +{entries} entries",
                1.5,
                True,
                ratios[scaled],
            )
        ],
        [
            "each fake plugin is a dist-info entry point registering one architecture; the "
            "registry file names them; `zoo list` prints every entry"
        ],
    )
