"""`convanim grad`, `info --grad` and `--overlay overlap` from the command line."""

import json

import pytest
from PIL import Image

from convanim.cli import main


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("args, name, frames", [
    (["--wrt", "input"], "grad_input_conv_i5_k3_s2_p1.gif", 25),
    (["--wrt", "input", "--view", "scatter"], "grad_input_conv_i5_k3_s2_p1_scatter.gif", 9),
    (["--wrt", "weight"], "grad_weight_conv_i5_k3_s2_p1.gif", 9),
    (["--view", "scatter", "--overlay", "overlap"],
     "grad_input_conv_i5_k3_s2_p1_scatter_overlap.gif", 9),
])
def test_grad_writes_the_animation(args, name, frames, capsys, in_tmp):
    code, out, err = run(["grad", "--i", "5", "--k", "3", "--s", "2", "--p", "1", *args], capsys)
    assert code == 0, err
    assert out.strip() == name
    with Image.open(in_tmp / name) as im:
        assert im.n_frames == frames


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_grad_trace_file(mode, capsys, in_tmp):
    code, _, err = run(["grad", "--i", "4", "--k", "2", "--s", "2", "--mode", mode, "--wrt",
                        "input", "-o", "g.json"], capsys)
    assert code == 0, err
    d = json.loads((in_tmp / "g.json").read_text())
    assert d["op"] == f"{mode}_pool2d_grad_input" and len(d["steps"]) == 4
    assert {"input", "grad_output", "grad_input"} <= set(d) and "weight" not in d
    if mode == "max":
        assert all(len(s["taps"]) == 1 and s["taps"][0]["grad_input"] == s["winner"]
                   for s in d["steps"])


def test_grad_output_file(capsys, in_tmp):
    (in_tmp / "g.txt").write_text("1 0 0\n0 0 0\n0 0 2\n")
    code, _, err = run(["grad", "--i", "5", "--k", "3", "--s", "2", "--p", "1", "--grad-output",
                        "g.txt", "-o", "t.json"], capsys)
    assert code == 0, err
    assert json.loads((in_tmp / "t.json").read_text())["grad_output"][2][2] == 2


@pytest.mark.parametrize("args, words", [
    (["--wrt", "weight", "--view", "scatter"], ["view: got 'scatter'", "one step per weight cell"]),
    (["--mode", "max", "--wrt", "weight"], ["wrt: got 'weight'", "allowed: input"]),
    (["--mode", "max", "--view", "gather"], ["view: got 'gather'", "scatter"]),
    (["--wrt", "weight", "--overlay", "overlap"], ["overlay", "--wrt input"]),
    (["--mode", "avg", "--weight", "w.txt"], ["weight: pooling takes no weight"]),
    (["--grad-output", "missing.txt"], ["grad_output", "does not exist"]),
])
def test_errors_are_one_line_before_work(args, words, capsys, in_tmp):
    code, out, err = run(["grad", "--i", "4", "--k", "2", "--s", "2", *args], capsys)
    assert code == 2 and out == ""
    assert err.startswith("convanim: error: ") and err.count("\n") == 1, err
    for w in words:
        assert w in err, err
    assert not list(in_tmp.glob("*.gif"))


def test_overlay_on_tconv_and_refused_elsewhere(capsys, in_tmp):
    code, out, err = run(["tconv", "--i", "4", "--k", "3", "--s", "2", "--view", "scatter",
                          "--overlay", "overlap", "--frame", "16"], capsys)
    assert code == 0, err
    assert out.strip() == "tconv_i4_k3_s2_scatter_overlap_frame16.png"
    code, _, err = run(["conv", "--i", "4", "--k", "3", "--overlay", "overlap"], capsys)
    assert code == 2


def test_info_grad(capsys):
    code, out, err = run(["info", "--i", "6", "--k", "3", "--s", "2", "--p", "1", "--grad"], capsys)
    assert code == 0, err
    assert "dL/dx: 6x6" in out and "dL/dw: 3x3" in out and "dL/dy: 3x3" in out
    assert ("torch.nn.functional.conv_transpose2d(grad_output, weight, stride=2, padding=1, "
            "output_padding=1, dilation=1)") in out
    assert "torch.nn.functional.conv2d(input, grad_output, stride=1, padding=1, dilation=2)" in out
    code, out, _ = run(["info", "--i", "6", "--k", "3", "--s", "2", "--p", "1", "--grad",
                        "--json"], capsys)
    d = json.loads(out)
    assert d["grad_input_size"] == [6, 6] and d["output_padding"] == [1, 1]
    assert d["grad_weight_size"] == [3, 3]
    code, _, err = run(["info", "--i", "6", "--k", "3", "--grad", "--transposed"], capsys)
    assert code == 2 and "grad" in err


# Golden frames of the new figures (tests/golden/; --regen-golden rewrites them).
import convanim as ca  # noqa: E402
from golden import check_frame  # noqa: E402

_F = ca.conv2d(5, 3, 2, 1)
GRAD_GOLDEN = {
    "grad_input_gather_labels": (ca.conv2d_grad(_F, "input"), dict(labels=True), 7),
    "grad_input_scatter_flat": (ca.conv2d_grad(_F, "input", "scatter"), dict(style="flat"), 4),
    "grad_weight_flat": (ca.conv2d_grad(_F, "weight"), dict(style="flat"), 4),
    "grad_maxpool_flat": (ca.pool2d_grad(ca.pool2d("max", 4, 2)), dict(style="flat"), 3),
    "overlap_k3_s2_scatter": (ca.conv_transpose2d(4, 3, 2, view="scatter"),
                              dict(overlay="overlap", numbers=True), 15),
}


@pytest.mark.parametrize("name", list(GRAD_GOLDEN))
def test_grad_golden_frames(name, regen_golden):
    spec, look, step = GRAD_GOLDEN[name]
    from convanim.backends import raster

    frame = raster.frame_image(ca.scene(ca.trace_of(spec), **look), step)
    check_frame(name, frame, regen_golden)
