"""Whether a `.pt2` archive can be opened without trusting it: `check_pt2_archive`.

`torch.export.load` (torch 2.13) runs code from the file in more ways than pickle:

- it unpickles `data/sample_inputs/<model>.pt` (`torch.load`, falling back to
  `weights_only=False`), weights and constants whose config says `use_pickle`, custom and
  opaque object constants, the legacy `data/weights/<model>.pt`, and it loads AOTInductor
  shared libraries (`data/aotinductor/`);
- it evaluates every symbolic shape expression in `models/<model>.json` with
  `sympy.sympify`, which is `eval`;
- with sample inputs, `.module()` `exec`s the program's `guards_code` strings;
- it resolves each node's target by name from `torch`, `operator` or `math` (any callable
  there, `torch.save` or `os.system` through `torch.serialization.os` included) and the
  program calls it when parity runs it; FX writes weight names into the Python code it
  generates for the module.

So an archive passes only if everything in it is data zoo understands: exactly the members
torch.export.save writes for one program (no sample inputs: zoo's pt2 exporter saves none),
nothing pickled, arithmetic-only expressions, identifier-only names, and graph nodes that
call zoo's recurrent ops or pure tensor ops. Standard library only: nothing here imports
torch, and the file is read with zipfile (with the archive tricks refused that could make
torch's own zip reader see other bytes).
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zoo._errors import ZooError


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Members torch 2.13's `torch.export.save` writes for one program named `model`
#: (`torch/export/pt2_archive/_package.py`), below the archive's root folder.
_FIXED = {
    "archive_format": re.compile(r"pt2"),
    "archive_version": re.compile(r"\d+"),
    "byteorder": re.compile(r"little|big"),
    ".data/version": re.compile(r"\d+\n?"),
    ".data/serialization_id": re.compile(r"\d+"),
}
_JSON = {
    "models/model.json",
    "data/weights/model_weights_config.json",
    "data/constants/model_constants_config.json",
    "extra/zoo.json",
}
#: Written empty when the program has no example inputs; anything in it is a torch.save pickle.
_SAMPLE_INPUTS = "data/sample_inputs/model.pt"
#: Raw tensor bytes, read with `torch.frombuffer`/`as_strided` when their config entry says
#: `use_pickle: false`. Not checked for pickle magic: they are never unpickled, and raw float
#: data starts with a 0x80 byte by chance.
_BLOB = re.compile(r"data/weights/weight_\d+|data/constants/tensor_\d+")
_PAYLOADS = {
    "data/weights/model_weights_config.json": ("data/weights/", re.compile(r"weight_\d+")),
    "data/constants/model_constants_config.json": ("data/constants/", re.compile(r"tensor_\d+")),
}

#: The ops a graph node may call. zoo's own exports of every architecture (rnn, lstm,
#: bilstm, the example gru; with and without lengths) call `zoo::rnn`, `zoo::lstm`,
#: `zoo::gru` (zoo/nn/_ops.py) and aten's flatten, linear, select, slice and transpose
#: (tests/test_untrusted_artifacts.py checks both). The rest are pure tensor ops a plugin's
#: recurrent model plausibly exports to (a hand-written cell: gates, activations, a scan
#: over time; a convolution over time before the recurrence): they compute on tensors and
#: touch no file, process or Python object, unlike e.g. `aten::from_file` or
#: `aten::_pickle_save`. Any overload of a listed op is allowed; anything else is refused,
#: and --trust-code opens it.
ZOO_OPS = frozenset({"rnn", "lstm", "gru"})
ATEN_OPS = _words(
    """
    _assert_scalar _assert_tensor_metadata _log_softmax _softmax _to_copy _unsafe_view abs
    add addmm alias amax amin arange argmax argmin baddbmm bmm cat chunk clamp clamp_max
    clamp_min clone contiguous cumsum detach div dropout elu embedding eq exp expand flatten
    flip full full_like gather ge gelu gt hardtanh index index_select layer_norm le
    leaky_relu lift_fresh_copy linear log log1p log_softmax logical_and logical_not
    logical_or lt masked_fill matmul max maximum mean min minimum mm mul narrow
    native_layer_norm ne neg ones ones_like permute pow relu repeat reshape rsqrt rsub
    scalar_tensor select sigmoid silu slice softmax split split_with_sizes sqrt squeeze
    stack sub sum sym_constrain_range sym_constrain_range_for_size sym_numel sym_size
    sym_storage_offset sym_stride t tanh to transpose type_as unbind unflatten unsqueeze
    view where zeros zeros_like
    conv1d conv2d convolution constant_pad_nd pad batch_norm native_batch_norm
    _native_batch_norm_legit_no_training avg_pool1d max_pool1d adaptive_avg_pool1d group_norm
    movedim moveaxis
    """
)
#: torch.export's form of a loop over time (`torch._higher_order_ops.scan`, how a
#: hand-written cell exports with a dynamic seq): it runs a subgraph of the same program,
#: whose nodes are checked like the rest.
HIGHER_ORDER_OPS = frozenset({"torch.ops.higher_order.scan"})
#: What torch.export records for arithmetic on symbolic sizes (serialize.py's _SYM_OPS).
SYM_OPS = frozenset(
    {f"_operator.{op}" for op in _words("getitem add sub mul floordiv truediv mod pow neg pos")}
    | {f"_operator.{op}" for op in _words("eq ne le ge lt gt and_ or_ lshift rshift")}
    | {f"torch.sym_{op}" for op in _words("not int float ite max min sqrt")}
    | {"math.trunc"}
)
_OP = re.compile(r"torch\.ops\.(aten|zoo)\.([a-z_][a-z0-9_]*)\.([A-Za-z][A-Za-z0-9_]*)")

#: A symbolic expression as torch writes it (`srepr`: `Mul(Integer(20), Symbol('s27',
#: positive=True, integer=True))`): sympy constructors, literals and symbol names only.
_EXPR_TOKEN = re.compile(
    r"\s*(?:([A-Za-z_]\w*)|'[a-z]+\d+'|\d+(?:\.\d+)?(?:e[-+]?\d+)?|[-+*/%(),=<>])"
)
_EXPR_NAMES = _words(
    """
    Symbol Integer Rational Float Add Mul Pow Max Min Mod Eq Ne Lt Le Gt Ge And Or Not
    FloorDiv CeilDiv ModularIndexing Where PythonMod CleanDiv CeilToInt FloorToInt LShift
    RShift PowByNatural FloatPow FloatTrueDiv IntTrueDiv TruncToFloat TruncToInt RoundToInt
    RoundDecimal ToFloat Identity oo True False
    positive negative nonnegative nonpositive integer real finite
    """
)
#: A shape guard as torch writes it: `L['h0'].size()[1] == L['x'].size()[0]`.
_GUARD_ATOM = r"(?:L\['[A-Za-z_]\w*'\](?:\.size\(\)\[\d+\])?|\d+)"
_GUARD = re.compile(rf"{_GUARD_ATOM}(?:\s*(?:==|!=|>=|<=|<|>|\+|-|\*|//)\s*{_GUARD_ATOM})*")
#: Names FX writes into generated code (weights, graph values, arguments): dotted words.
_NAME = re.compile(r"\w*(?:\.\w+)*")
#: model.json strings that are not names, each checked by its own rule (or free text that
#: nothing evaluates: string arguments are written with repr(), tree specs are JSON).
_NOT_NAMES = {"expr_str", "target", "as_operator", "as_string", "in_spec", "out_spec"}
_NOT_NAMES |= {"torch_version"}
_METADATA = {"stack_trace", "nn_module_stack", "source_fn_stack", "torch_fn"}


def check_pt2_archive(path: Path) -> None:
    """Raise a ZooError saying why, unless `torch.export.load` can open `path` without
    running code from it (see the module docstring for what that takes)."""
    where = repr(str(path))
    try:
        members = _read_members(path)
    except (OSError, EOFError, ValueError, struct.error, zipfile.BadZipFile) as exc:
        raise ZooError(f"{where} is not a zip archive zoo can check: {exc}.") from None
    for name, data in members.items():
        if name == _SAMPLE_INPUTS:
            if data:
                raise ZooError(
                    f"{where} carries a pickle, {name} ({len(data)} bytes), which "
                    "torch.export.load unpickles, running any code in it (zoo's pt2 exports "
                    "no longer carry one: re-export a file you made before)."
                )
        elif _BLOB.fullmatch(name) is None and name not in _FIXED and name not in _JSON:
            raise ZooError(
                f"{where} has a member torch.export.save does not write for zoo, {name!r}, "
                "which torch.export.load may unpickle or run."
            )
    for name, pattern in _FIXED.items():
        if pattern.fullmatch(_text(where, name, members)) is None:
            raise ZooError(f"{where}: member {name} is not what torch.export.save writes.")
    for name, (folder, path_name) in _PAYLOADS.items():
        _check_payload_config(where, name, _json(where, name, members), folder, path_name, members)
    _json(where, "extra/zoo.json", members)
    _check_program(where, _json(where, "models/model.json", members))


def _read_members(path: Path) -> dict[str, bytes]:
    """Every member below the root folder, refusing what could make torch's zip reader
    (miniz, case-insensitive lookups) see other members or bytes than zipfile does."""
    with path.open("rb") as file, zipfile.ZipFile(file) as archive:
        infos = archive.infolist()
        if not infos:
            raise ValueError("it has no members")
        _check_central_directory(file, archive)
        root = infos[0].filename.split("/")[0]
        members: dict[str, bytes] = {}
        seen: set[str] = set()
        for info in infos:
            name = info.filename
            if not name.startswith(f"{root}/"):
                raise ValueError(f"member {name!r} is outside the root folder {root!r}")
            if name.lower() in seen:
                raise ValueError(f"member {name!r} appears twice (ignoring case)")
            if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 1:
                raise ValueError(f"member {name!r} is compressed or encrypted")
            seen.add(name.lower())
            members[name[len(root) + 1 :]] = archive.read(info)
    return members


def _check_central_directory(file: Any, archive: zipfile.ZipFile) -> None:
    """No comment and no bytes before the first member: the central directory is where the
    end record says, so every reader finds the same members at the same offsets."""
    if archive.comment:
        raise ValueError("it has a zip comment")
    file.seek(-22, 2)
    end = file.read(22)
    if end[:4] != b"PK\x05\x06":
        raise ValueError("it does not end with a zip end record")
    declared: int = struct.unpack("<I", end[16:20])[0]
    if declared == 0xFFFFFFFF:  # zip64: the offset is in the zip64 end record
        file.seek(-42, 2)
        locator = file.read(20)
        if locator[:4] != b"PK\x06\x07":
            raise ValueError("its zip64 end record is missing")
        file.seek(struct.unpack("<Q", locator[8:16])[0] + 48)
        declared = struct.unpack("<Q", file.read(8))[0]
    if declared != archive.start_dir or min(i.header_offset for i in archive.infolist()) != 0:
        raise ValueError("it has bytes before its first member or a misplaced directory")


def _text(where: str, name: str, members: dict[str, bytes]) -> str:
    if name not in members:
        raise ZooError(f"{where} is not a pt2 archive torch.export.save wrote: no {name}.")
    try:
        return members[name].decode("utf-8")
    except UnicodeDecodeError:  # pickles (0x80 ...) and other binary data
        raise ZooError(f"{where}: member {name} is not text (a pickle?).") from None


def _json(where: str, name: str, members: dict[str, bytes]) -> Any:
    try:
        return json.loads(_text(where, name, members))
    except json.JSONDecodeError as exc:
        raise ZooError(f"{where}: member {name} is not valid JSON ({exc}).") from None


def _check_payload_config(
    where: str,
    name: str,
    config: Any,
    folder: str,
    path_name: re.Pattern[str],
    members: dict[str, bytes],
) -> None:
    entries = config.get("config") if isinstance(config, dict) else None
    if not isinstance(entries, dict):
        raise ZooError(f"{where}: {name} is not a torch.export payload config.")
    for fqn, meta in entries.items():
        if not isinstance(meta, dict) or meta.get("use_pickle") is not False:
            raise ZooError(
                f"{where}: {name} marks {fqn!r} as pickled (use_pickle), which "
                "torch.export.load unpickles, running any code in it."
            )
        file = meta.get("path_name")
        if not isinstance(file, str) or path_name.fullmatch(file) is None:
            raise ZooError(
                f"{where}: {name} stores {fqn!r} as {file!r}, not raw tensor bytes (custom "
                "and opaque objects are pickles, which torch.export.load unpickles)."
            )
        if folder + file not in members or _NAME.fullmatch(fqn) is None:
            raise ZooError(f"{where}: {name} has a bad entry {fqn!r} ({file}).")


def _check_program(where: str, program: Any) -> None:
    """The graph's ops, expressions, guards and names (see the module docstring)."""
    guards = program.get("guards_code", []) if isinstance(program, dict) else None
    if not isinstance(guards, list):
        raise ZooError(f"{where}: models/model.json is not a torch.export program.")
    for guard in guards:
        if not isinstance(guard, str) or _GUARD.fullmatch(guard) is None:
            raise ZooError(
                f"{where}: models/model.json has a guard that is not a shape comparison "
                f"({str(guard)[:80]!r}), which torch would run as Python code."
            )
    for key, value in _strings(program):
        if key in ("target", "as_operator"):
            _check_op(where, value)
        elif key == "expr_str":
            _check_expression(where, value)
        elif key.startswith("metadata."):
            _check_metadata(where, key.removeprefix("metadata."), value)
        elif key not in _NOT_NAMES and _NAME.fullmatch(value) is None:
            raise ZooError(
                f"{where}: models/model.json has a name that is not a dotted identifier "
                f"({value[:80]!r} in {key!r}), which torch would write into Python code."
            )


def _check_metadata(where: str, key: str, value: str) -> None:
    """Node metadata is text torch keeps for messages (stack traces, module paths); only
    the kinds zoo's exports carry, with no control characters but newlines."""
    if key not in _METADATA or not value.replace("\n", "").isprintable():
        raise ZooError(
            f"{where}: models/model.json has node metadata zoo does not know "
            f"({key!r}: {value[:80]!r})."
        )


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """(key, string) for every string in a JSON value, dict keys as ("key", KEY); node
    metadata as `metadata.KEY`, the guards (checked apart) left out."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, key)
    elif isinstance(value, dict):
        for k, v in value.items():
            if key == "metadata" and isinstance(v, str):
                yield f"metadata.{k}", v
                continue
            yield "key", k  # field names, value and symbol names: all names
            if k != "guards_code":
                yield from _strings(v, k)


def _check_op(where: str, target: str) -> None:
    match = _OP.fullmatch(target)
    allowed = (
        target in SYM_OPS or target in HIGHER_ORDER_OPS
        if match is None
        else match[2] in (ZOO_OPS if match[1] == "zoo" else ATEN_OPS)
    )
    if not allowed:
        raise ZooError(
            f"{where} calls {target[:120]!r}, which is not one of the tensor ops zoo "
            "allows in an untrusted program (it could touch files or run code when parity "
            "runs the program)."
        )


def _check_expression(where: str, expr: str) -> None:
    position = 0
    while position < len(expr):
        token = _EXPR_TOKEN.match(expr, position)
        if token is None or (token[1] is not None and token[1] not in _EXPR_NAMES):
            raise ZooError(
                f"{where}: models/model.json has a shape expression that is not arithmetic "
                f"({expr[:80]!r}), which torch evaluates with sympy (eval)."
            )
        position = token.end()
