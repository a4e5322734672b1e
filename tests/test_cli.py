"""The command line: outputs, exit statuses, one-line errors, nothing written on error."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from convanim.cli import cli, main

ROOT = Path(__file__).resolve().parents[1]


def child_env():
    """Environment for a child ``python -m convanim`` that finds this tree's package."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return exc.value.code, out, err


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_conv_default_name(capsys, in_tmp):
    code, out, err = run(["conv", "--i", "5", "--k", "3", "--s", "2", "--p", "1"], capsys)
    assert code == 0 and out.strip() == "conv_i5_k3_s2_p1.gif"
    with Image.open(in_tmp / "conv_i5_k3_s2_p1.gif") as im:
        assert im.n_frames == 9


@pytest.mark.parametrize("args, name, frames", [
    (["conv", "--i", "7", "--k", "3", "--d", "2", "-o", "dilated.gif"], "dilated.gif", 9),
    (["conv", "--i", "5,7", "--k", "3,2", "--s", "2,1", "--p", "1,0", "-o", "wide.webp"], "wide.webp", 18),
    (["conv", "--i", "5x7", "--k", "3", "-o", "x.png"], "x.png", 15),
    (["tconv", "--of-conv", "--i", "6", "--k", "3", "--s", "2", "--p", "1"], "tconv_i3_k3_s2_p1_op1.gif", 36),
    (["tconv", "--i", "2", "--k", "2", "--s", "2", "--view", "scatter"], "tconv_i2_k2_s2_scatter.gif", 4),
    (["pool", "--i", "5", "--k", "3", "--s", "1", "--mode", "avg"], "avgpool_i5_k3_s1.gif", 9),
])
def test_commands_write_files(args, name, frames, capsys, in_tmp):
    code, out, err = run(args, capsys)
    assert code == 0, err
    assert out.strip() == name
    with Image.open(in_tmp / name) as im:
        assert im.n_frames == frames


def test_json_trace(capsys, in_tmp):
    code, out, _ = run(["conv", "--i", "5", "--k", "3", "--p", "same", "-o", "steps.json"], capsys)
    assert code == 0
    doc = json.loads((in_tmp / "steps.json").read_text())
    assert doc["op"] == "conv2d" and doc["output_size"] == [5, 5] and len(doc["steps"]) == 25


def test_input_and_weight_files(capsys, in_tmp):
    (in_tmp / "x.csv").write_text("1,2,3\n4,5,6\n7,8,9\n")
    (in_tmp / "w.txt").write_text("1 0\n0 -1\n")
    code, _, err = run(["conv", "--i", "3", "--k", "2", "--input", "x.csv", "--weight", "w.txt",
                        "-o", "t.json"], capsys)
    assert code == 0, err
    doc = json.loads((in_tmp / "t.json").read_text())
    assert doc["output"] == [[1 - 5, 2 - 6], [4 - 8, 5 - 9]]


def test_info_text_and_json(capsys):
    code, out, _ = run(["info", "--i", "6", "--k", "3", "--s", "2", "--p", "1"], capsys)
    assert code == 0
    assert "floor((6 + 2*1 - 1*(3-1) - 1) / 2) + 1 = 3" in out
    assert "never read: the last 1 row and 1 column" in out
    assert "torch.nn.Conv2d(1, 1, kernel_size=3, stride=2, padding=1)" in out
    # Pairs as one number when square, HxW otherwise; a square case's formula once.
    assert out.splitlines()[0] == "conv2d: input 6x6, kernel 3x3, stride 2, padding 1, dilation 1"
    assert "  height and width: o = " in out and "height:" not in out and "(" not in out.split("\n")[0]
    code, out, _ = run(["info", "--i", "5,7", "--k", "3,2", "--s", "2,1", "--p", "1,0"], capsys)
    assert out.splitlines()[0] == "conv2d: input 5x7, kernel 3x2, stride 2x1, padding 1x0, dilation 1"
    assert "  height: o = " in out and "  width: o = " in out
    code, out, _ = run(["info", "--i", "5", "--k", "3", "--json"], capsys)
    assert json.loads(out)["output_size"] == [3, 3]


def test_info_transposed(capsys):
    code, out, _ = run(["info", "--transposed", "--i", "3", "--k", "3", "--s", "2", "--p", "1",
                        "--op", "1"], capsys)
    assert code == 0
    assert "= 6" in out and "pad 1 at the top/left and 2 at the bottom/right" in out
    assert "insert 1 zero between input cells" in out and "output_padding 1" in out
    assert "torch.nn.ConvTranspose2d(1, 1, kernel_size=3, stride=2, padding=1, output_padding=1)" in out


@pytest.mark.parametrize("args, words", [
    (["conv", "--i", "3", "--k", "5"], ["kernel_size", "5", "3"]),
    (["conv", "--i", "0", "--k", "1"], ["input_size", "'0'", ">= 1"]),
    (["conv", "--i", "5", "--k", "3", "--s", "-1"], ["stride", ">= 1"]),
    (["conv", "--i", "5", "--k", "3", "--p", "-1"], ["padding", ">= 0"]),
    (["conv", "--i", "5", "--k", "3", "--d", "0"], ["dilation", ">= 1"]),
    (["conv", "--i", "five", "--k", "3"], ["input_size", "five", "whole numbers"]),
    (["conv", "--i", "1,2,3", "--k", "1"], ["input_size", "3 values"]),
    (["conv", "--i", "5", "--k", "3", "--s", "2", "--p", "same"], ["same", "stride 1"]),
    (["conv", "--i", "5", "--k", "3", "-o", "a.bmp"], ["output", ".bmp", ".gif"]),
    (["conv", "--i", "5", "--k", "3", "-o", "nodir/a.gif"], ["output", "nodir", "does not exist"]),
    (["conv", "--i", "5", "--k", "3", "--input", "missing.csv"], ["input", "missing.csv", "does not exist"]),
    (["conv", "--i", "5", "--k", "3", "--duration", "x"], ["--duration", "x"]),
    (["conv", "--i", "5"], ["k: missing", "--k"]),
    (["tconv", "--i", "3", "--k", "3", "--s", "2", "--op", "2"], ["output_padding", "smaller than"]),
    (["tconv", "--i", "1", "--k", "1", "--p", "1"], ["padding", "output of"]),
    (["pool", "--i", "5", "--k", "3", "--mode", "median"], ["--mode", "median"]),
])
def test_errors_are_one_line_status_2_no_file(args, words, capsys, in_tmp):
    code, out, err = run(args, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("convanim: error: ")
    for w in words:
        assert w in lines[0]
    assert "Traceback" not in err
    assert list(in_tmp.iterdir()) == []


def test_shape_mismatch_names_both_shapes(capsys, in_tmp):
    (in_tmp / "x.csv").write_text("1,2\n3,4\n")
    code, _, err = run(["conv", "--i", "3", "--k", "2", "--input", "x.csv"], capsys)
    assert code == 2 and "2x2" in err and "3x3" in err
    assert sorted(p.name for p in in_tmp.iterdir()) == ["x.csv"]


def test_error_keeps_previous_output(capsys, in_tmp):
    run(["conv", "--i", "4", "--k", "3", "-o", "a.gif"], capsys)
    before = (in_tmp / "a.gif").read_bytes()
    (in_tmp / "bad.csv").write_text("1,2\n3\n")
    code, _, _ = run(["conv", "--i", "4", "--k", "3", "--input", "bad.csv", "-o", "a.gif"], capsys)
    assert code == 2
    assert (in_tmp / "a.gif").read_bytes() == before
    assert sorted(p.name for p in in_tmp.iterdir()) == ["a.gif", "bad.csv"]


@pytest.mark.parametrize("cmd", [[]] + [[name] for name in sorted(cli.commands)])
def test_help_has_example(cmd, capsys):
    # Generated from the command list: a new command cannot go without help and examples.
    for flag in ("-h", "--help"):
        code, out, _ = run(cmd + [flag], capsys)
        assert code == 0 and "convanim " in out and "Example" in out


def test_version(capsys):
    code, out, _ = run(["--version"], capsys)
    assert code == 0 and "0.1.0" in out


def test_python_m_convanim(in_tmp):
    r = subprocess.run([sys.executable, "-m", "convanim", "--help"], capture_output=True, text=True,
                       env=child_env())
    assert r.returncode == 0 and "conv" in r.stdout


def test_default_name_says_style_numbers_and_theme(capsys, in_tmp):
    # Figures of one spec drawn differently must not overwrite each other.
    names = []
    for extra in ([], ["--style", "flat"], ["--numbers"], ["--theme", "dark"]):
        code, out, err = run(["conv", "--i", "4", "--k", "3", *extra], capsys)
        assert code == 0, err
        names.append(out.strip())
    assert names == ["conv_i4_k3.gif", "conv_i4_k3_flat.gif", "conv_i4_k3_numbers.gif",
                     "conv_i4_k3_dark.gif"]


def test_frames_dir_keeps_only_this_runs_frames(capsys, in_tmp):
    run(["conv", "--i", "5", "--k", "3", "-o", "a.gif", "--frames", "f"], capsys)
    (in_tmp / "f" / "notes.txt").write_text("mine")
    run(["conv", "--i", "4", "--k", "3", "-o", "a.gif", "--frames", "f"], capsys)
    assert sorted(p.name for p in (in_tmp / "f").iterdir()) == [
        "a_0001.png", "a_0002.png", "a_0003.png", "a_0004.png", "notes.txt"]


@pytest.mark.parametrize("args, words", [
    (["conv", "--i", "5", "--k", "3", "--seed", "-1"], ["--seed", "-1"]),
    (["conv", "--i", "6,2", "--k", "2,4", "--p", "1,2", "--d", "2,2"], ["with dilation 2", "1 to 3"]),
    (["pool", "--i", "6", "--k", "3,1", "--p", "1,1"], ["at most 1,0", "kernel 3,1"]),
    # An empty value is an error, not the default (found by the CLI property test).
    (["tconv", "--i", "3", "--k", "1", "--op", ""], ["output_padding", "0 values"]),
    (["matrix", "--i", "4", "--k", "3", "-o", ""], ["output"]),
    (["info", "--i", "5", "--k", "3", "--view", "scatter"], ["view", "--transposed"]),
    (["conv", "--i", "5", "--k", "3", "-o", ".gif"], ["'.gif'", "no name", "a.gif"]),
    (["conv", "--i", "5", "--k", "3", "--caption", ""], ["caption", "'auto'"]),
    (["conv", "--i", "5", "--k", "3", "--title", " "], ["title", "a text"]),
])
def test_review_findings_are_clear_errors(args, words, capsys, in_tmp):
    code, _, err = run(args, capsys)
    assert code == 2 and all(w in err for w in words), err
    assert list(in_tmp.iterdir()) == []


def test_package_has_no_import_cycle():
    # The pipeline reads one way: no module imports one that (indirectly) imports it back.
    import ast
    import convanim
    root = Path(convanim.__file__).parent
    graph = {}
    for path in root.rglob("*.py"):
        mod = ".".join(path.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
        deps = set()
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
                names = [f"{target}.{a.name}" for a in node.names]
                deps |= {n for n in names if (root.parent / n.replace(".", "/")).with_suffix(".py").exists()
                         or (root.parent / n.replace(".", "/")).is_dir()} or {target}
        graph[mod] = {d for d in deps if d != mod}

    def reach(start):
        seen, todo = set(), [start]
        while todo:
            for d in graph.get(todo.pop(), ()):
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return seen

    # The package's own __init__ re-exports the API; only modules below it count.
    cycles = sorted(m for m in graph if m != "convanim" and m in reach(m) - {"convanim"})
    assert cycles == []


def test_default_names_differ_when_the_pixels_differ(capsys, in_tmp):
    # Every option that changes the picture changes the default name; the default look
    # keeps its plain name, and the same options give the same name.
    variants = [[], ["--title", "A"], ["--title", "B"], ["--caption", "auto"],
                ["--color", "input=#123456"], ["--background", "transparent"],
                ["--background", "transparent", "--matte", "#000000"],
                ["--background", "#eeeeee"], ["--scale", "2"], ["--cell", "20"],
                ["--labels"], ["--seed", "1"], ["--style", "flat", "--no-numbers"],
                ["--style", "flat"]]
    names = []
    for extra in variants:
        code, out, err = run(["conv", "--i", "3", "--k", "2", *extra], capsys)
        assert code == 0, (extra, err)
        names.append(out.strip())
    assert names[0] == "conv_i3_k2.gif" and names[-1] == "conv_i3_k2_flat.gif"
    assert len(set(names)) == len(names), names
    assert all(n.startswith("conv_i3_k2_") for n in names[1:])
    code, out, _ = run(["conv", "--i", "3", "--k", "2", "--title", "A"], capsys)
    assert out.strip() == names[1]


def test_matte_needs_a_transparent_background(capsys, in_tmp):
    code, _, err = run(["conv", "--i", "3", "--k", "2", "--matte", "#000"], capsys)
    assert code == 2 and "matte" in err and "--background transparent" in err
    code, _, err = run(["conv", "--i", "3", "--k", "2", "--background", "transparent",
                        "--matte", "black"], capsys)
    assert code == 2 and "'black'" in err and "#rrggbb" in err
    code, _, err = run(["conv", "--i", "3", "--k", "2", "--background", "blue"], capsys)
    assert code == 2 and "background: got 'blue'" in err and "transparent" in err
    assert not list(in_tmp.iterdir())


def test_transparent_background_from_color_none(capsys, in_tmp):
    for args in (["--background", "transparent"], ["--color", "background=none"]):
        code, out, err = run(["conv", "--i", "3", "--k", "2", "-o", "t.png", *args], capsys)
        assert code == 0, err
        with Image.open("t.png") as im:
            assert np.asarray(im.convert("RGBA"))[0, 0, 3] == 0


def test_sizes_from_the_data_files(capsys, in_tmp):
    np.save("x.npy", np.arange(30.0).reshape(5, 6))
    np.savetxt("w.txt", np.ones((2, 3)))
    code, out, err = run(["conv", "--input", "x.npy", "--k", "3", "-o", "a.json"], capsys)
    assert code == 0, err
    doc = json.loads((in_tmp / "a.json").read_text())
    assert doc["input_size"] == [5, 6] and doc["kernel_size"] == [3, 3]
    code, out, err = run(["conv", "--input", "x.npy", "--weight", "w.txt", "-o", "b.json"], capsys)
    assert code == 0, err
    assert json.loads((in_tmp / "b.json").read_text())["kernel_size"] == [2, 3]
    code, out, err = run(["pool", "--input", "x.npy", "--k", "2", "-o", "c.json"], capsys)
    assert code == 0, err
    code, out, err = run(["matrix", "--input", "x.npy", "--k", "3", "-o", "m.png"], capsys)
    assert code == 0, err
    # A given size that disagrees stays an error; without data the size is needed.
    for args, words in ((["conv", "--i", "4", "--input", "x.npy", "--k", "3"], ["5x6", "4x4"]),
                        (["conv", "--k", "3"], ["--i", "--input FILE"]),
                        (["conv", "--i", "5"], ["--k", "--weight FILE"]),
                        (["tconv", "--of-conv", "--input", "x.npy", "--k", "3"], ["--of-conv", "--i"])):
        code, _, err = run(args, capsys)
        assert code == 2 and all(w in err for w in words), (args, err)
    code, _, err = run(["info", "--k", "3"], capsys)
    assert code == 2 and "--i" in err


@pytest.mark.parametrize("args, words", [
    (["conv", "-i", "5", "--k", "3"], ["'-i'", "'--i'", "convanim conv --i 5 --k 3"]),
    (["conv", "--i", "5", "--k", "3", "-s", "2"], ["'--s'", "convanim conv --i 5 --k 3 --s 2"]),
    (["--i", "5", "--k", "3"], ["without a command", "convanim conv --i 5 --k 3", "tconv"]),
    (["-i", "5", "--k", "3"], ["without a command", "convanim conv --i 5 --k 3"]),
    (["conv", "--input", "5", "--k", "3"], ["--input is a data file", "no file '5'", "--i 5"]),
    (["conv", "--i", "3", "--weight", "3x3"], ["--weight is a data file", "--k 3x3"]),
])
def test_hints_for_common_mix_ups(args, words, capsys, in_tmp):
    code, out, err = run(args, capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("convanim: error: ")
    assert all(w in err for w in words), err
    assert not list(in_tmp.iterdir())


def test_top_level_help_shows_each_summary_whole(capsys):
    code, out, _ = run(["--help"], capsys)
    text = " ".join(out.split())
    assert code == 0 and "..." not in out.split("Commands:")[1]
    assert ("Print the arithmetic: output size formula with the numbers, frames, unread cells, "
            "PyTorch call.") in text
    assert "Render a whole set of figures from one TOML spec (default: the built-in set)." in text


def test_shell_completion_completes_theme_names():
    env = dict(child_env(), COMP_WORDS="convanim conv --theme d", COMP_CWORD="3",
               _CONVANIM_COMPLETE="bash_complete")
    r = subprocess.run([sys.executable, "-m", "convanim"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.split() == ["plain,dark"]
    env.update(COMP_WORDS="convanim conv --theme ", COMP_CWORD="3")
    r = subprocess.run([sys.executable, "-m", "convanim"], capture_output=True, text=True, env=env)
    assert [w.split(",")[1] for w in r.stdout.split()] == ["classic", "light", "dark", "print"]


# --- the command's exit: at once, once its output is flushed -------------------------------

class Exited(Exception):
    pass


@pytest.mark.parametrize("args, status", [(["info", "--i", "5", "--k", "3"], 0),
                                          (["conv", "--i", "5", "--k", "0"], 2)])
def test_the_command_ends_at_once_after_flushing(args, status, monkeypatch, capsys):
    """As the ``convanim`` command (not a library call of main), the process ends with
    os._exit once stdout and stderr are flushed: no teardown of every object."""
    import convanim.cli as cli_module
    ended = []

    def exit_now(code):
        ended.append(code)
        raise Exited

    monkeypatch.setattr(cli_module, "_is_command_line", lambda: True)
    monkeypatch.setattr(cli_module.os, "_exit", exit_now)
    monkeypatch.setattr(sys, "argv", ["convanim", *args])
    with pytest.raises(Exited):
        main()
    assert ended == [status]
    out, err = capsys.readouterr()
    assert (out.startswith("conv2d: input 5x5") if status == 0 else
            err.startswith("convanim: error: kernel_size"))
    # Called with its arguments (a program, a test), main exits as before: SystemExit.
    code, _, _ = run(args, capsys)
    assert code == status and ended == [status]


@pytest.mark.parametrize("args, status", [(["info", "--i", "7", "--k", "3", "--s", "2"], 0),
                                          (["conv", "--help"], 0),
                                          (["conv", "--i", "5", "--k", "0"], 2)])
def test_the_command_writes_all_its_output_into_a_pipe(args, status, capsys):
    env = {k: v for k, v in child_env().items() if k != "PYTHONUNBUFFERED"}  # block-buffered
    proc = subprocess.run([sys.executable, "-m", "convanim", *args], capture_output=True,
                          text=True, env=env)
    code, out, err = run(args, capsys)
    assert (proc.returncode, proc.stdout, proc.stderr) == (code, out, err) == (status, out, err)
    assert out or err
