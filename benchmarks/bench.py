"""convanim benchmark: prints plain tables of medians; run `python benchmarks/bench.py`.

Measures (issue 6): the 15 classic animations rendered to GIF with 1 and 2
worker processes; per-frame cost and bytes as the grid grows; bytes and canvas
of each classic animation next to the reference's; (issue 11) the classic set as
animated SVG and as PDF stills, bytes and time; the time of one
`convanim conv` from the shell, and the import time. The machine is shared and
noisy: every figure is the median of --repeat runs.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import convanim as ca  # noqa: E402

# name -> (builder, reference canvas, reference frames, reference bytes);
# shared/reference/README.md, as published by the LaTeX + ImageMagick pipeline.
CLASSIC = {
    "no_padding_no_strides": (lambda: ca.conv2d(4, 3), (244, 259), 4, 37751),
    "arbitrary_padding_no_strides": (lambda: ca.conv2d(5, 4, 1, 2), (495, 542), 36, 476750),
    "same_padding_no_strides": (lambda: ca.conv2d(5, 3, 1, 1), (395, 449), 25, 276460),
    "full_padding_no_strides": (lambda: ca.conv2d(5, 3, 1, 2), (495, 576), 49, 435605),
    "no_padding_strides": (lambda: ca.conv2d(5, 3, 2), (294, 288), 4, 44665),
    "padding_strides": (lambda: ca.conv2d(5, 3, 2, 1), (395, 381), 9, 118422),
    "padding_strides_odd": (lambda: ca.conv2d(6, 3, 2, 1), (445, 411), 9, 122211),
    "dilation": (lambda: ca.conv2d(7, 3, 1, 0, 2), (395, 381), 9, 124951),
    "no_padding_no_strides_transposed": (lambda: ca.transpose_of(ca.conv2d(4, 3)), (344, 386), 16, 164355),
    "arbitrary_padding_no_strides_transposed": (lambda: ca.transpose_of(ca.conv2d(5, 4, 1, 2)), (445, 479), 25, 323062),
    "same_padding_no_strides_transposed": (lambda: ca.transpose_of(ca.conv2d(5, 3, 1, 1)), (395, 449), 25, 213333),
    "full_padding_no_strides_transposed": (lambda: ca.transpose_of(ca.conv2d(5, 3, 1, 2)), (395, 449), 25, 287001),
    "no_padding_strides_transposed": (lambda: ca.transpose_of(ca.conv2d(5, 3, 2)), (395, 449), 25, 197717),
    "padding_strides_transposed": (lambda: ca.transpose_of(ca.conv2d(5, 3, 2, 1)), (395, 449), 25, 272498),
    "padding_strides_odd_transposed": (lambda: ca.transpose_of(ca.conv2d(6, 3, 2, 1)), (445, 513), 36, 303965),
}
REF_SECONDS = {1: 340.0, 2: 197.0}


def _classic_spec(formats: list[str]) -> str:
    """The 15 classic figures of the built-in gallery spec, with the given formats, as TOML."""
    import tomllib

    spec = tomllib.loads((ROOT / "gallery" / "gallery.toml").read_text())
    out = [f"[defaults]\nformats = {json.dumps(formats)}\n"]
    for fig in spec["figure"]:
        if fig["name"] in CLASSIC:
            # Scalars, flags and pair lists print the same in JSON and TOML.
            out.append("[[figure]]\n" + "".join(f"{k} = {json.dumps(v)}\n"
                                                for k, v in fig.items() if k != "formats"))
    return "\n".join(out)


def classic_set(jobs: int, formats: list[str]) -> tuple[float, list]:
    """Wall time of `convanim gallery SPEC --force -j JOBS` (one process tree), and the GIFs."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / "classic.toml"
        spec.write_text(_classic_spec(formats))
        out = Path(d) / "out"
        cmd = [sys.executable, "-m", "convanim", "gallery", str(spec), "-o", str(out),
               "-j", str(jobs), "--force", "-q"]
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True)
        wall = time.perf_counter() - t0
        rows = []
        from PIL import Image
        for name in CLASSIC:
            path = out / f"{name}.gif"
            with Image.open(path) as im:
                rows.append((name, path.stat().st_size, im.size, im.n_frames))
    return wall, rows


def per_frame(sizes: list[int], repeat: int, cell: int) -> list[tuple]:
    """ms per frame (drawing, after the first) and GIF bytes per frame, first <= 60 frames.

    The first frame also draws the still picture, which grows with the grid; it
    is timed on its own.
    """
    from itertools import islice

    from convanim import writer

    rows = []
    for i in sizes:
        spec = ca.conv2d(i, 3, 1, 1)
        t = ca.trace_of(spec)
        n = min(spec.n_steps, 60)
        times, firsts = [], []
        for _ in range(repeat):
            it = ca.iter_frames(t, cell)
            t0 = time.perf_counter()
            next(it)
            t1 = time.perf_counter()
            for _f in islice(it, n - 1):
                pass
            firsts.append((t1 - t0) * 1000)
            times.append((time.perf_counter() - t1) / (n - 1) * 1000)
        buf = io.BytesIO()
        writer.write_gif(buf, islice(ca.iter_frames(t, cell), n))
        size = ca.layout(t, cell).size
        rows.append((i, spec.n_steps, f"{size[0]}x{size[1]}", statistics.median(firsts),
                     statistics.median(times), len(buf.getvalue()) / n))
    return rows


def vector_rows(repeat: int) -> list[tuple]:
    """Per classic figure: animated SVG bytes and ms to make them, PDF still bytes and ms."""
    from convanim.backends.pdf import still_pdf
    from convanim.backends.svg import animated_svg

    rows = []
    for name, (build, _, _, ref_b) in CLASSIC.items():
        t = ca.trace_of(build())
        svg_t, pdf_t = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            svg = animated_svg(ca.scene(t)).encode()
            t1 = time.perf_counter()
            pdf = still_pdf(ca.scene(t), 0)
            pdf_t.append((time.perf_counter() - t1) * 1000)
            svg_t.append((t1 - t0) * 1000)
        rows.append((name, len(svg), statistics.median(svg_t), ref_b, len(pdf),
                     statistics.median(pdf_t)))
    return rows


def shell_time(repeat: int) -> tuple[float, float]:
    cmd = [sys.executable, "-m", "convanim", "conv", "--i", "5", "--k", "3", "--s", "2", "--p", "1"]
    imp = [sys.executable, "-c", "import convanim.cli"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with tempfile.TemporaryDirectory() as d:
        run_t, imp_t = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=d, env=env, check=True, capture_output=True)
            run_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            subprocess.run(imp, cwd=d, env=env, check=True, capture_output=True)
            imp_t.append(time.perf_counter() - t0)
    return statistics.median(run_t), statistics.median(imp_t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer repeats and sizes")
    args = ap.parse_args()
    repeat = 2 if args.quick else args.repeat
    print(f"convanim {ca.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"median of {repeat}")

    print("\n## Classic set: 15 animations (322 frames), `convanim gallery --force`, whole process")
    print("| outputs | jobs | wall s (median) | reference pipeline s | speed-up |")
    print("|---|---|---|---|---|")
    rows = None
    for formats in (["gif"], ["gif", "frames"]):
        for jobs in (1, 2):
            walls = []
            for _ in range(repeat):
                wall, got = classic_set(jobs, formats)
                walls.append(wall)
                rows = rows or got
            w = statistics.median(walls)
            print(f"| {' + '.join(formats)} | {jobs} | {w:.3f} | {REF_SECONDS[jobs]:.0f} | "
                  f"{REF_SECONDS[jobs] / w:.0f}x |")

    print("\n## Bytes and canvas per animation (default cell)")
    print("| name | frames | canvas | ref canvas | bytes | ref bytes | ratio |")
    print("|---|---|---|---|---|---|---|")
    tot, ref_tot = 0, 0
    for name, size_b, canvas, frames in rows:
        _, ref_canvas, ref_frames, ref_b = CLASSIC[name]
        tot += size_b
        ref_tot += ref_b
        print(f"| {name} | {frames} | {canvas[0]}x{canvas[1]} | {ref_canvas[0]}x{ref_canvas[1]} | "
              f"{size_b} | {ref_b} | {size_b / ref_b:.2f} |")
    print(f"| total | | | | {tot} | {ref_tot} | {tot / ref_tot:.2f} |")

    print("\n## Vector output of the classic set: animated SVG (whole animation), PDF (frame 1)")
    print("| name | SVG bytes | SVG ms | ref GIF bytes | SVG / ref | PDF bytes | PDF ms |")
    print("|---|---|---|---|---|---|---|")
    vec = vector_rows(repeat)
    for name, svg_b, svg_ms, ref_b, pdf_b, pdf_ms in vec:
        print(f"| {name} | {svg_b} | {svg_ms:.0f} | {ref_b} | {svg_b / ref_b:.3f} | {pdf_b} | "
              f"{pdf_ms:.0f} |")
    svg_tot, ref_tot = sum(r[1] for r in vec), sum(r[3] for r in vec)
    print(f"| total | {svg_tot} | {sum(r[2] for r in vec):.0f} | {ref_tot} | "
          f"{svg_tot / ref_tot:.3f} | {sum(r[4] for r in vec)} | {sum(r[5] for r in vec):.0f} |")

    sizes = [4, 16, 32] if args.quick else [4, 8, 16, 32, 64]
    for cell in (32, 8):
        print(f"\n## Per-frame cost vs grid size (conv k=3 p=1, --cell {cell}; first <= 60 frames)")
        print("| i | frames | canvas | first frame ms | ms/frame after | GIF bytes/frame |")
        print("|---|---|---|---|---|---|")
        for i, n, canvas, first, ms, bpf in per_frame(sizes, repeat, cell):
            print(f"| {i} | {n} | {canvas} | {first:.1f} | {ms:.2f} | {bpf:.0f} |")

    print("\n## One command from the shell")
    run_s, imp_s = shell_time(repeat)
    print("| what | wall s |")
    print("|---|---|")
    print(f"| convanim conv --i 5 --k 3 --s 2 --p 1 | {run_s:.3f} |")
    print(f"| python -c 'import convanim.cli' | {imp_s:.3f} |")


if __name__ == "__main__":
    main()
