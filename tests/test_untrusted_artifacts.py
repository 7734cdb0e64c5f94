"""Hostile artifact files run no code: TorchScript and pt2 files are opened only with
--trust-code, unless a pt2 archive is plain data (as zoo's own exports are).

Each payload creates a marker file when it runs. Without --trust-code the command exits 1
with one line saying why, and the marker never appears; with --trust-code the same file
loads and the marker appears, which shows the payload is real and the test can see it run.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import pytest
import torch
from limits_support import refused_untrusted
from torch import Tensor

import zoo
from zoo.export import check_pt2_archive
from zoo.export._untrusted import ATEN_OPS, ZOO_OPS

REPO = Path(__file__).resolve().parent.parent
SPECS = zoo.load_plugins(third_party=True).architectures
ARCHS = sorted(SPECS)
EXPORTS = [(a, "plain") for a in ARCHS] + [
    (a, "lengths") for a in ARCHS if SPECS[a].supports_lengths
]
#: What zoo's exports of these architectures call, with and without lengths (the comment on
#: zoo.export._untrusted.ATEN_OPS says so; this keeps it true).
OWN_ATEN_OPS = {"flatten", "linear", "select", "slice", "transpose"}
OWN_ARCHS = {"rnn", "lstm", "bilstm", "gru"}


@pytest.fixture(scope="module")
def own(cli: Callable[..., Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """zoo's pt2 and TorchScript exports of every architecture, with and without lengths."""
    out = tmp_path_factory.mktemp("own")
    for arch, kind in EXPORTS:
        lengths = ["--lengths"] if kind == "lengths" else []
        result = cli("export", arch, "--pt2", "--torchscript", "--out", str(out / kind), *lengths)
        assert result.exit_code == 0, result.output
    return out


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        root = archive.namelist()[0].split("/")[0]
        return {i.filename[len(root) + 1 :]: archive.read(i) for i in archive.infolist()}


def _rebuild(dst: Path, src: Path, change: dict[str, bytes]) -> Path:
    """`src` with members replaced or added (names below its root folder)."""
    with zipfile.ZipFile(src) as archive:
        root = archive.namelist()[0].split("/")[0]
    members = {**_members(src), **change}
    with zipfile.ZipFile(dst, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"{root}/{name}", data)
    return dst


class Payload:
    """Pickles as a call to eval: unpickling touches `marker`, then returns `value`."""

    def __init__(self, marker: Path, value: str) -> None:
        self.code = f"__import__('pathlib').Path({str(marker)!r}).touch() or {value}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (eval, (self.code,))


def _saved(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _runs_only_with_trust(cli: Callable[..., Any], path: Path, marker: Path, reason: str) -> None:
    """Refused untrusted, the payload unrun; trusted, every parity row passes and it ran."""
    refused_untrusted(cli("verify", str(path)), reason)
    assert not marker.exists()
    trusted = cli("verify", str(path), "--trust-code")
    assert trusted.exit_code == 0 and "FAIL" not in trusted.output, trusted.output
    assert marker.exists()


# zoo's own exports ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("arch", "lengths"), EXPORTS)
def test_own_pt2_exports_are_plain_data(own: Path, arch: str, lengths: str) -> None:
    path = own / lengths / f"{arch}.pt2"
    check_pt2_archive(path)
    members = _members(path)
    assert members["data/sample_inputs/model.pt"] == b""  # no torch.save pickle
    assert not [n for n in members if n.endswith((".pt", ".pkl")) and members[n]]
    program = json.loads(members["models/model.json"])
    targets = set(re.findall(r'"target": "([^"]+)"', json.dumps(program)))
    aten = {t.split(".")[3] for t in targets if t.startswith("torch.ops.aten.")}
    ours = {t.split(".")[3] for t in targets if t.startswith("torch.ops.zoo.")}
    assert aten <= ATEN_OPS and ours <= ZOO_OPS
    if arch in OWN_ARCHS:
        assert aten <= OWN_ATEN_OPS <= ATEN_OPS and ours
        assert all(t.startswith(("torch.ops.aten.", "torch.ops.zoo.")) for t in targets)


def test_a_scan_over_time_is_plain_data_too(tmp_path: Path) -> None:
    """How a hand-written cell exports with a dynamic seq: torch.ops.higher_order.scan,
    whose body is a subgraph of the program (checked like the rest)."""
    from torch._higher_order_ops.scan import scan

    class Cell(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gate = torch.nn.Linear(7, 4)

        def forward(self, x: Tensor, h: Tensor) -> tuple[Tensor, Tensor]:
            def step(h: Tensor, x_t: Tensor) -> tuple[Tensor, Tensor]:
                h = (1 - torch.sigmoid(self.gate(torch.cat([x_t, h], -1)))) * h
                return h, h.clone()

            return scan(step, h, x.transpose(0, 1))

    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    args, dims = (torch.randn(2, 5, 3), torch.zeros(2, 4)), ({0: batch, 1: seq}, {0: batch})
    program = torch.export.export(Cell(), args, dynamic_shapes=dims)
    program.example_inputs = None
    path = tmp_path / "scan.pt2"
    torch.export.save(program, str(path), extra_files={"zoo.json": "{}"})
    text = _members(path)["models/model.json"].decode()
    assert "torch.ops.higher_order.scan" in text and "torch.ops.aten.sigmoid" in text
    check_pt2_archive(path)
    # the body is checked too: a file-touching op inside it is refused
    body = text.replace("torch.ops.aten.sigmoid.default", "torch.ops.aten.from_file.default")
    hostile = _rebuild(tmp_path / "x.pt2", path, {"models/model.json": body.encode()})
    with pytest.raises(zoo.ZooError, match=re.escape("calls 'torch.ops.aten.from_file.")):
        check_pt2_archive(hostile)


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_own_pt2_verifies_without_trust(cli: Callable[..., Any], own: Path, arch: str) -> None:
    for kind in [k for a, k in EXPORTS if a == arch]:
        result = cli("verify", str(own / kind / f"{arch}.pt2"))
        assert result.exit_code == 0 and "FAIL" not in result.output, result.output


@pytest.mark.slow
@pytest.mark.parametrize("arch", ARCHS)
def test_own_torchscript_verifies_only_with_trust(
    cli: Callable[..., Any], own: Path, arch: str
) -> None:
    path = own / "plain" / f"{arch}.torchscript.pt"
    refused_untrusted(
        cli("verify", str(path)), f"'{path}' is TorchScript, which runs code when loaded"
    )
    trusted = cli("verify", str(path), "--trust-code")
    assert trusted.exit_code == 0 and "FAIL" not in trusted.output, trusted.output


def test_zoo_op_allowlist_names_the_ops_zoo_registers() -> None:
    source = (REPO / "zoo" / "nn" / "_ops.py").read_text()
    assert set(re.findall(r'custom_op\("zoo::(\w+)"', source)) == ZOO_OPS


# hostile pt2 archives ----------------------------------------------------------------------


@pytest.mark.slow
def test_pickled_sample_inputs_run_only_with_trust(
    cli: Callable[..., Any], own: Path, tmp_path: Path
) -> None:
    """The real program plus a torch.save pickle as its sample inputs (what torch.export.save
    writes by default)."""
    marker = tmp_path / "ran"
    inputs = "((torch.zeros(2, 7, 10), torch.zeros(1, 2, 20), torch.zeros(1, 2, 20)), {})"
    payload = _saved(Payload(marker, inputs.replace("torch.", "__import__('torch').")))
    change = {"data/sample_inputs/model.pt": payload}
    path = _rebuild(tmp_path / "lstm.pt2", own / "plain" / "lstm.pt2", change)
    _runs_only_with_trust(cli, path, marker, "carries a pickle, data/sample_inputs/model.pt")


@pytest.mark.slow
def test_pickled_weights_run_only_with_trust(
    cli: Callable[..., Any], own: Path, tmp_path: Path
) -> None:
    """A weights config that says `use_pickle` for head.bias, whose bytes are a pickle that
    returns the true bias."""
    marker = tmp_path / "ran"
    members = _members(own / "plain" / "lstm.pt2")
    config = json.loads(members["data/weights/model_weights_config.json"])
    entry = config["config"]["head.bias"]
    blob = f"data/weights/{entry['path_name']}"
    bias = torch.frombuffer(bytearray(members[blob]), dtype=torch.float32).tolist()
    value = f"__import__('torch').nn.Parameter(__import__('torch').tensor({bias!r}))"
    entry["use_pickle"] = True
    change = {
        "data/weights/model_weights_config.json": json.dumps(config).encode(),
        blob: _saved(Payload(marker, value)),
    }
    path = _rebuild(tmp_path / "lstm.pt2", own / "plain" / "lstm.pt2", change)
    _runs_only_with_trust(cli, path, marker, "marks 'head.bias' as pickled (use_pickle)")


@pytest.mark.slow
def test_file_touching_op_runs_only_with_trust(
    cli: Callable[..., Any], own: Path, tmp_path: Path
) -> None:
    """No pickle, but a node `aten::from_file(marker, shared=True)`, which creates the file
    when parity runs the program."""
    marker = tmp_path / "ran"
    program = json.loads(_members(own / "plain" / "lstm.pt2")["models/model.json"])
    graph = program["graph_module"]["graph"]
    graph["tensor_values"]["evil"] = graph["tensor_values"]["p_head_bias"]
    args = {"shared": {"as_bool": True}, "size": {"as_int": 1}}
    inputs = [{"name": "filename", "arg": {"as_string": str(marker)}, "kind": 1}]
    inputs += [{"name": k, "arg": v, "kind": 2} for k, v in args.items()]
    target = "torch.ops.aten.from_file.default"
    node = {"target": target, "inputs": inputs, "name": "evil", "metadata": {}}
    graph["nodes"].insert(1, {**node, "outputs": [{"as_tensor": {"name": "evil"}}]})
    change = {"models/model.json": json.dumps(program).encode()}
    path = _rebuild(tmp_path / "lstm.pt2", own / "plain" / "lstm.pt2", change)
    _runs_only_with_trust(cli, path, marker, f"calls '{target}'")


#: A member added to zoo's lstm.pt2 -> the refusal.
ADDED = {
    "data/weights/model.pt": "a member torch.export.save does not write for zoo",  # legacy
    "data/aotinductor/model/model.so": "'data/aotinductor/model/model.so'",
    "models/other.json": "'models/other.json'",  # a second program
    "DATA/sample_inputs/model.pt": "appears twice (ignoring case)",
    "data/constants/model_constants_config.json": "stores 'obj' as 'opaque_obj_0', not raw",
    "extra/zoo.json": "member extra/zoo.json is not text (a pickle?)",
}
OPAQUE = {"config": {"obj": {"path_name": "opaque_obj_0", "use_pickle": False}}}
CONTENT = {"data/constants/model_constants_config.json": json.dumps(OPAQUE).encode()}
#: models/model.json with (text, replacement) -> the refusal.
CALL = "__import__('os').getpid()"
OS_SYSTEM = "torch.serialization.os.system"
EDITED = {
    "sympy": ("Symbol('s27', positive=True, integer=True)", CALL, "expression that is not arith"),
    "guard": ("L['h0'].size()[1]", CALL, "a guard that is not a shape comparison"),
    "weight name": ('"rnn.W_l0"', '"rnn.W\\")\\nimport os; (\\""', "('rnn.W\")\\nimport os"),
    "os.system": ("torch.ops.aten.linear.default", OS_SYSTEM, f"calls '{OS_SYSTEM}'"),
}


@pytest.mark.slow
@pytest.mark.parametrize("member", sorted(ADDED))
def test_pt2_members_that_are_not_plain_data_are_refused(
    own: Path, tmp_path: Path, member: str
) -> None:
    data = CONTENT.get(member, b"\x80\x02}q\x00.")  # a pickle
    path = _rebuild(tmp_path / "x.pt2", own / "plain" / "lstm.pt2", {member: data})
    with pytest.raises(zoo.ZooError, match=re.escape(ADDED[member])):
        check_pt2_archive(path)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(EDITED))
def test_pt2_programs_with_code_in_them_are_refused(own: Path, tmp_path: Path, case: str) -> None:
    text, code, reason = EDITED[case]
    program = _members(own / "plain" / "lstm.pt2")["models/model.json"].decode()
    change = {"models/model.json": program.replace(text, code, 1).encode()}
    path = _rebuild(tmp_path / "x.pt2", own / "plain" / "lstm.pt2", change)
    with pytest.raises(zoo.ZooError, match=re.escape(reason)):
        check_pt2_archive(path)


@pytest.mark.slow
def test_archive_tricks_that_could_fool_torch_s_zip_reader_are_refused(
    own: Path, tmp_path: Path
) -> None:
    prefixed, commented = tmp_path / "prefixed.pt2", tmp_path / "commented.pt2"
    prefixed.write_bytes(b"junk" * 8 + (own / "plain" / "lstm.pt2").read_bytes())
    _rebuild(commented, own / "plain" / "lstm.pt2", {})
    with zipfile.ZipFile(commented, "a") as archive:
        archive.comment = b"x"
    for path in (prefixed, commented, REPO / "README.md"):
        with pytest.raises(zoo.ZooError, match="is not a zip archive zoo can check"):
            check_pt2_archive(path)


# hostile TorchScript -------------------------------------------------------------------------


class _SetState(torch.nn.Module):
    """A submodule whose __setstate__, which torch.jit.load runs, creates a file."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker = marker

    def forward(self, x: Tensor) -> Tensor:
        return x

    @torch.jit.export
    def __getstate__(self) -> tuple[str, bool]:
        return (self.marker, self.training)

    @torch.jit.export
    def __setstate__(self, state: tuple[str, bool]) -> None:
        self.marker = state[0]
        written = torch.from_file(state[0], shared=True, size=1)  # creates the file
        self.training = state[1] and written.numel() > 0


class _Hostile(torch.nn.Module):
    """zoo's scripted LSTM, unchanged, next to the payload."""

    def __init__(self, inner: torch.jit.ScriptModule, marker: str) -> None:
        super().__init__()
        self.inner = inner
        self.payload = _SetState(marker)

    def forward(
        self,
        x: Tensor,
        h0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
        c0: Optional[Tensor] = None,  # noqa: UP045 - TorchScript
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        return self.inner(x, h0, c0)


@pytest.mark.slow
def test_torchscript_setstate_payload_runs_only_with_trust(
    cli: Callable[..., Any], own: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    original = own / "plain" / "lstm.torchscript.pt"
    meta = _members(original)["extra/zoo.json"].decode()
    hostile = torch.jit.script(_Hostile(torch.jit.load(str(original)), str(marker)))
    path = tmp_path / "lstm.torchscript.pt"
    torch.jit.save(hostile, str(path), _extra_files={"zoo.json": meta})
    assert not marker.exists()  # scripting and saving do not run it
    _runs_only_with_trust(cli, path, marker, "is TorchScript, which runs code when loaded")


@pytest.mark.slow
def test_predict_opens_no_torchscript_or_pt2_artifact(
    cli: Callable[..., Any], own: Path, tmp_path: Path
) -> None:
    """`zoo predict --artifact` takes only ONNX files (and has no --trust-code): hostile
    TorchScript and pt2 files are refused by name, unread."""
    run = tmp_path / "run"
    tiny = ("--samples", "32", "--seq-len", "6", "--set", "hidden_size=4", "--epochs", "1")
    trained = cli("train", "lstm", "--data", "sine", *tiny, "--out", str(run))
    assert trained.exit_code == 0, trained.output
    marker = tmp_path / "ran"
    hostile = torch.jit.script(_SetState(str(marker)))
    script = tmp_path / "run.torchscript.pt"
    torch.jit.save(hostile, str(script), _extra_files={"zoo.json": "{}"})
    payload = _saved(Payload(marker, "((), {})"))
    change = {"data/sample_inputs/model.pt": payload}
    pt2 = _rebuild(tmp_path / "run.pt2", own / "plain" / "lstm.pt2", change)
    for path in (script, pt2):
        args = ("--checkpoint", str(run), "--data", "sine", "--runtime", "onnx")
        result = cli("predict", *args, "--artifact", str(path))
        assert result.exit_code == 1 and "--runtime onnx needs an ONNX file" in result.output
        assert not marker.exists()
