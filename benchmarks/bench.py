"""convanim benchmark: prints plain tables of medians; run `python benchmarks/bench.py`.

Measures (issue 6): the 15 classic animations rendered with 1 and 2 worker
processes, wall and CPU time (the default gallery formats, and with strips
measured apart, issue 15); per-frame cost and bytes as the grid grows, for the
iso view, the flat style, iso --numbers and the transposed scatter view; one
long render through the command line (`conv --i 32 --k 3 --p 1 --style flat`,
1,024 frames; with -j 1 and -j 2, one process and two); bytes and canvas of each classic animation next to the
reference's and next to `gifsicle -O3` of the same file (when gifsicle is
installed); (issue 11) the classic set as animated SVG and as PDF stills, bytes
and time; (issue 13) the same as interactive pages (.html), bytes and ms a frame; the time of one `convanim conv` from the shell, and the import time.

    python benchmarks/bench.py                      # this tree, medians of 5
    python benchmarks/bench.py --quick              # fewer repeats and sizes (< 3 minutes)
    python benchmarks/bench.py --before ../old      # every row for that tree too, alternated
    python benchmarks/bench.py --only classic --repeat 9  # the classic set through the gallery only

The machine is shared and noisy: every figure is the median of --repeat runs,
and with --before the two trees take turns run by run. CPU time is user +
system of the command and its children (the gallery's workers) for the
command-line rows, and process time for the in-process rows. Child processes
run without PYTHONDONTWRITEBYTECODE, so they do not recompile the package.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The tree whose convanim this process measures in-process (a child of --before sets it).
TREE = Path(os.environ.get("CONVANIM_BENCH_TREE", ROOT))
sys.path.insert(0, str(TREE))

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
REF_SECONDS = {1: 340.0, 2: 197.0}  # the reference pipeline, as published (not measured here)

# Per-frame rows: kind -> (command line with N for i, spec of i, picture options).
PER_FRAME = {
    "iso": ("conv --i N --k 3 --p 1", lambda i: ca.conv2d(i, 3, 1, 1), {}),
    "flat": ("conv --i N --k 3 --p 1 --style flat", lambda i: ca.conv2d(i, 3, 1, 1),
             {"style": "flat"}),
    "numbers": ("conv --i N --k 3 --p 1 --numbers", lambda i: ca.conv2d(i, 3, 1, 1),
                {"numbers": True}),
    "scatter": ("tconv --i N --k 3 --view scatter",
                lambda i: ca.conv_transpose2d(i, 3, view="scatter"), {}),
}
SECTIONS = ("classic", "long", "per-frame", "channels", "vector", "shell")
LONG_RUN = ["conv", "--i", "32", "--k", "3", "--p", "1", "--style", "flat"]  # 1,024 frames


# ---------------------------------------------------------------------------------------------
# Running things: in this process or a child of another tree; commands through the CLI


def _env(tree: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree)
    return env


def _warm(tree: Path) -> None:
    """Compile the tree's modules once, so no timed child spends its time compiling them."""
    subprocess.run([sys.executable, "-c", "import convanim.cli, convanim.gallery, "
                    "convanim.backends.svg, convanim.backends.raster"],
                   env=_env(tree), check=True, cwd=tempfile.gettempdir())


def in_tree(tree: Path, name: str, *args, child: bool = False):
    """``name(*args)`` of this module with ``tree``'s convanim: here, or in a child process."""
    if not child and tree.resolve() == TREE.resolve():
        return json.loads(json.dumps(globals()[name](*args)))
    env = dict(_env(tree), CONVANIM_BENCH_TREE=str(tree))
    out = subprocess.run([sys.executable, __file__, "--child", name, json.dumps(args)],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def _medians(runs: list[list]) -> list:
    """Rows of several runs of one measurement: per field, the median where they differ."""
    out = []
    for rows in zip(*runs):
        out.append([statistics.median(v) if all(isinstance(x, (int, float)) for x in v)
                    and len(set(v)) > 1 else v[0] for v in zip(*rows)])
    return out


def rows_of(trees: list[tuple[str, Path]], repeat: int, name: str, *args) -> dict[str, list]:
    """``name(repeat, *args)`` per tree: in this process for this tree alone; with two
    trees ``repeat`` runs of ``name(1, *args)`` each in a child, the trees taking turns,
    and per field the median of the runs."""
    if len(trees) == 1:
        return {trees[0][0]: in_tree(trees[0][1], name, repeat, *args)}
    runs: dict[str, list] = {label: [] for label, _ in trees}
    for _ in range(repeat):
        for label, tree in trees:
            runs[label].append(in_tree(tree, name, 1, *args, child=True))
    return {label: _medians(r) for label, r in runs.items()}


def has_jobs(tree: Path) -> bool:
    """Whether the tree's render commands take -j (a long GIF on several processes)."""
    out = subprocess.run([sys.executable, "-m", "convanim", "conv", "--help"], env=_env(tree),
                         capture_output=True, text=True, cwd=tempfile.gettempdir()).stdout
    return "--jobs" in out


def timed_cli(tree: Path, args: list[str], cwd: str) -> tuple[float, float]:
    """(wall s, CPU s of it and its children) of ``python -m convanim ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "convanim", *args], cwd=cwd, env=_env(tree),
                   check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def median_pair(runs: list[tuple[float, float]]) -> tuple[float, float]:
    if not runs:  # a tree that cannot write these formats (an older checkout)
        return float("nan"), float("nan")
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


_KNOWN: dict[Path, set[str]] = {}


def gallery_formats_of(tree: Path) -> set[str]:
    """The gallery formats ``tree`` knows (an older tree may lack newer ones, e.g. html)."""
    if tree not in _KNOWN:
        out = subprocess.run([sys.executable, "-c", "from convanim import gallery; "
                              "print(' '.join(gallery.FORMATS))"], env=_env(tree),
                             cwd=tree,  # not this folder: `-c` puts the cwd first on sys.path
                             capture_output=True, text=True, check=True).stdout
        _KNOWN[tree] = set(out.split())
    return _KNOWN[tree]


# ---------------------------------------------------------------------------------------------
# The classic set through `convanim gallery`


def default_formats() -> list[str]:
    """The formats of the built-in gallery spec's [defaults] (this tree's gallery.toml)."""
    import tomllib

    return tomllib.loads((ROOT / "gallery" / "gallery.toml").read_text())["defaults"]["formats"]


def _classic_spec(formats: list[str]) -> str:
    """The 15 classic figures of the built-in gallery spec, with the given formats, as TOML."""
    import tomllib

    spec = tomllib.loads((ROOT / "gallery" / "gallery.toml").read_text())
    defaults = {k: v for k, v in spec.get("defaults", {}).items() if k != "formats"}
    out = ["[defaults]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in defaults.items())
           + f"formats = {json.dumps(formats)}\n"]
    for fig in spec["figure"]:
        if fig["name"] in CLASSIC:
            # Scalars, flags and pair lists print the same in JSON and TOML.
            out.append("[[figure]]\n" + "".join(f"{k} = {json.dumps(v)}\n"
                                                for k, v in fig.items() if k != "formats"))
    return "\n".join(out)


def classic_set(tree: Path, jobs: int, formats: list[str],
                keep_gifs: bool = False) -> tuple[float, float, list]:
    """(wall, CPU) of `convanim gallery SPEC --force -j JOBS` (one process tree), and the GIFs:
    (name, bytes, canvas, frames, gifsicle -O3 bytes or None) when ``keep_gifs``."""
    with tempfile.TemporaryDirectory() as d:
        spec = Path(d) / "classic.toml"
        spec.write_text(_classic_spec(formats))
        out = Path(d) / "out"
        wall, cpu = timed_cli(tree, ["gallery", str(spec), "-o", str(out), "-j", str(jobs),
                                     "--force", "-q"], d)
        rows = []
        if keep_gifs and "gif" in formats:
            from PIL import Image

            gifsicle = shutil.which("gifsicle")
            for name in CLASSIC:
                path = out / f"{name}.gif"
                opt = None
                if gifsicle:
                    small = Path(d) / "O3.gif"
                    subprocess.run([gifsicle, "-O3", str(path), "-o", str(small)], check=True)
                    opt = small.stat().st_size
                with Image.open(path) as im:
                    rows.append((name, path.stat().st_size, im.size, im.n_frames, opt))
    return wall, cpu, rows


def strip_rows(repeat: int) -> list:
    """Per classic figure: ms (wall and process CPU) and bytes of writing its strip alone,
    from frames rendered beforehand, at the writer's own level."""
    from convanim import writer

    rows = []
    with tempfile.TemporaryDirectory() as d:
        for name, (build, *_) in CLASSIC.items():
            t = ca.trace_of(build())
            frames = ca.render(t, labels=True if "transposed" in name else None)
            walls, cpus = [], []
            for _ in range(repeat):
                c0, t0 = time.process_time(), time.perf_counter()
                writer.write_strip(Path(d) / f"{name}.png", frames)
                walls.append((time.perf_counter() - t0) * 1000)
                cpus.append((time.process_time() - c0) * 1000)
            rows.append((name, len(frames), statistics.median(walls), statistics.median(cpus),
                         (Path(d) / f"{name}.png").stat().st_size))
    return rows


def strip_level() -> str:
    from convanim import writer

    return str(getattr(writer, "STRIP_LEVEL", "9 (optimize=True)"))


# ---------------------------------------------------------------------------------------------
# In-process rows


def per_frame(repeat: int, kind: str, sizes: list[int], cell: int,
              whole: bool = False) -> list[tuple]:
    """ms per frame (drawing, after the first) and GIF bytes per frame, first <= 60 frames;
    with ``whole`` also ms per frame over every frame after the first, once (later frames
    of a large grid cost more: more outputs so far carry text, lines cross more of it).

    The first frame also draws the still picture, which grows with the grid; it
    is timed on its own (after one small picture of the same kind has been drawn,
    so it does not pay for loading fonts).
    """
    from itertools import islice

    from convanim import writer

    _, build, picture = PER_FRAME[kind]
    next(ca.iter_frames(ca.trace_of(build(2)), cell, **picture))
    rows = []
    for i in sizes:
        spec = build(i)
        t = ca.trace_of(spec)
        n = min(spec.n_steps, 60)
        times, firsts = [], []
        for _ in range(repeat):
            it = ca.iter_frames(t, cell, **picture)
            t0 = time.perf_counter()
            next(it)
            t1 = time.perf_counter()
            for _f in islice(it, n - 1):
                pass
            firsts.append((t1 - t0) * 1000)
            times.append((time.perf_counter() - t1) / (n - 1) * 1000)
        every = None
        if whole and spec.n_steps > 1:
            it = ca.iter_frames(t, cell, **picture)
            next(it)
            t0 = time.perf_counter()
            for _f in it:
                pass
            every = (time.perf_counter() - t0) / (spec.n_steps - 1) * 1000
        buf = io.BytesIO()
        writer.write_gif(buf, islice(ca.iter_frames(t, cell, **picture), n))
        size = ca.layout(t, cell, **picture).size
        rows.append((i, spec.n_steps, f"{size[0]}x{size[1]}", statistics.median(firsts),
                     statistics.median(times), len(buf.getvalue()) / n, every))
    return rows


def long_split(repeat: int) -> list[tuple[int, float, float]]:
    """The long render in-process, one row: (frames, CPU s drawing them, CPU s drawing and
    writing the GIF), medians of ``repeat``; the frames as the command draws them (with where
    they changed, for the GIF writer)."""
    from convanim import writer
    from convanim.backends import raster

    spec = ca.conv2d(32, 3, 1, 1)
    t = ca.trace_of(spec)
    draw, both = [], []
    for _ in range(repeat):
        c0 = time.process_time()
        for _f in raster.frames(ca.scene(t, ca.Look(style="flat")), changed=True):
            pass
        c1 = time.process_time()
        writer.write_gif(io.BytesIO(), raster.frames(ca.scene(t, ca.Look(style="flat")),
                                                     changed=True))
        both.append(time.process_time() - c1)
        draw.append(c1 - c0)
    return [(spec.n_steps, statistics.median(draw), statistics.median(both))]


def channel_rows(repeat: int) -> list[tuple]:
    """conv --i 8 --k 3 --p 1, flat and iso, one map against 3 input maps and 4 filters
    (issue 12: within 2x): ms a frame over all the frames after the first (the figure's
    cost a frame), and over the first 60 after the first (the channel figure's first
    filter alone, every footprint new: later filters meet the same footprints again),
    medians of ``repeat``. Rows a tree cannot draw (no channels, or no iso picture of
    them) are left out."""
    from itertools import islice

    rows = []
    for style in ("flat", "iso"):
        for label_, kw in (("1 map, 1 filter", {}),
                           ("3 maps, 4 filters", {"in_channels": 3, "out_channels": 4})):
            try:
                t = ca.trace_of(ca.conv2d(8, 3, 1, 1, **kw))
                it = ca.iter_frames(t, 32, style=style)
                next(it)
            except (TypeError, ca.SpecError):
                break
            firsts, wholes = [], []
            for _ in range(repeat):
                it = ca.iter_frames(t, 32, style=style)
                next(it)
                t0 = time.perf_counter()
                n = sum(1 for _ in islice(it, 60))
                t1 = time.perf_counter()
                n_all = n + sum(1 for _ in it)
                firsts.append((t1 - t0) / n * 1000)
                wholes.append((time.perf_counter() - t0) / max(n_all, 1) * 1000)
            rows.append((style, label_, t.n_steps, statistics.median(firsts),
                         statistics.median(wholes)))
    return rows


def vector_rows(repeat: int) -> list[tuple]:
    """Per classic figure: animated SVG bytes and ms to make them, PDF still bytes and ms,
    the interactive page's bytes and ms (None for a tree without the HTML backend)."""
    from convanim.backends.pdf import still_pdf
    from convanim.backends.svg import animated_svg
    try:
        from convanim.backends.html import figure_page
    except ImportError:
        figure_page = None

    rows = []
    for name, (build, _, _, ref_b) in CLASSIC.items():
        t = ca.trace_of(build())
        look = ca.Look(labels=True if "transposed" in name else None)  # as gallery.toml draws them
        svg_t, pdf_t, html_t = [], [], []
        page = b""
        for _ in range(repeat):
            t0 = time.perf_counter()
            svg = animated_svg(ca.scene(t, look)).encode()
            t1 = time.perf_counter()
            pdf = still_pdf(ca.scene(t, look), 0)
            t2 = time.perf_counter()
            if figure_page is not None:
                page = figure_page(t, ca.scene(t, look)).encode()
                html_t.append((time.perf_counter() - t2) * 1000)
            pdf_t.append((t2 - t1) * 1000)
            svg_t.append((t1 - t0) * 1000)
        rows.append((name, len(svg), statistics.median(svg_t), ref_b, len(pdf),
                     statistics.median(pdf_t), t.n_steps,
                     len(page) if html_t else None, statistics.median(html_t) if html_t else None))
    return rows


def shell_time(tree: Path, repeat: int) -> tuple[float, float, float]:
    """(wall, CPU) of one short `convanim conv`, and the wall time of importing the CLI."""
    cmd = ["conv", "--i", "5", "--k", "3", "--s", "2", "--p", "1"]
    imp = [sys.executable, "-c", "import convanim.cli"]
    with tempfile.TemporaryDirectory() as d:
        run_t, imp_t = [], []
        for _ in range(repeat):
            run_t.append(timed_cli(tree, cmd, d))
            t0 = time.perf_counter()
            subprocess.run(imp, cwd=d, env=_env(tree), check=True, capture_output=True)
            imp_t.append(time.perf_counter() - t0)
    return (*median_pair(run_t), statistics.median(imp_t))


# ---------------------------------------------------------------------------------------------


def _or_dash(value, fmt: str = "{}") -> str:
    return "-" if value is None else fmt.format(value)


def table(headers: list[str], rows: list[list]) -> None:
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for row in rows:
        print("| " + " | ".join(str(c) for c in row) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer repeats, sizes and rows")
    ap.add_argument("--before", metavar="TREE",
                    help="another checkout (e.g. the commit before a change): every row "
                         "is measured for it too, the two trees taking turns")
    ap.add_argument("--only", metavar="SECTIONS",
                    help="comma-separated sections to run, of: " + ", ".join(SECTIONS))
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:  # one in-process row for another tree (see in_tree)
        name, call = args.child
        print(json.dumps(globals()[name](*json.loads(call))))
        return
    repeat = 2 if args.quick else args.repeat
    only = set(SECTIONS if not args.only else args.only.split(","))
    if only - set(SECTIONS):
        ap.error(f"--only: got {args.only}; sections are {', '.join(SECTIONS)}")
    trees = [("now", ROOT)] + ([("before", Path(args.before).resolve())] if args.before else [])
    many = len(trees) > 1
    for _, tree in trees:
        _warm(tree)
    print(f"convanim {ca.__version__}, python {sys.version.split()[0]}, {os.cpu_count()} cores, "
          f"median of {repeat}" + (f"; before = {trees[1][1]}" if many else ""))

    def label(name: str) -> list[str]:
        return [name] if many else []

    # -- The classic set -----------------------------------------------------------------------
    default = default_formats()
    if "classic" in only:
        classic_section(trees, repeat, args.quick, default, label, many)
    if "long" in only:
        long_section(trees, repeat, args.quick, label)
    if "per-frame" in only:
        per_frame_section(trees, repeat, args.quick, label)
    if "channels" in only:
        channels_section(trees, repeat, label)
    if "vector" in only:
        vector_section(trees, repeat, many)
    if "shell" in only:
        shell_section(trees, repeat, label)


def classic_section(trees, repeat, quick, default, label, many) -> None:
    # Strips are measured apart (issue 15: at most a fifth of the gallery's time when asked
    # for): the default formats with and without them, whether or not they are a default.
    with_strip = default if "strip" in default else [*default, "strip"]
    without_strip = [f for f in default if f != "strip"]
    sets = [default, without_strip if "strip" in default else with_strip]
    sets.append(["gif"])
    sets.append(["svg"])  # the vector half alone: start-up and the pool weigh most here
    if not quick:
        sets.append(["gif", "frames"])
    print("\n## Classic set: 15 animations (322 frames), `convanim gallery --force`, whole process")
    print(f"(default formats: {' + '.join(default)}; CPU = user + system of the gallery and its "
          "workers)")
    # Run by run, every set and tree in turn, so a slow spell of the machine hits them all.
    runs: dict[tuple, list] = {(" + ".join(f), jobs, name): [] for jobs in (1, 2)
                               for f in sets for name, _ in trees}
    gifs: dict[str, list] = {}
    for jobs in (1, 2):
        for _ in range(repeat):
            for formats in sets:
                for name, tree in trees:
                    if not set(formats) <= gallery_formats_of(tree):
                        continue  # shown as nan: that tree cannot write the set
                    keep = name not in gifs and formats == ["gif"]
                    wall, cpu, got = classic_set(tree, jobs, formats, keep_gifs=keep)
                    if keep and got:
                        gifs[name] = got
                    runs[(" + ".join(formats), jobs, name)].append((wall, cpu))
    results = {key: median_pair(r) for key, r in runs.items()}
    rows = []
    for (formats, jobs, name), (wall, cpu) in results.items():
        rows.append([formats, jobs, *label(name), f"{wall:.3f}", f"{cpu:.3f}",
                     f"{REF_SECONDS[jobs]:.0f}", f"{REF_SECONDS[jobs] / wall:.0f}x"])
    table(["outputs", "jobs", *label("tree"), "wall s", "CPU s", "reference pipeline s",
           "speed-up (wall)"], rows)

    if all(set(with_strip) <= gallery_formats_of(tree) for _, tree in trees):
        with_s, without = " + ".join(with_strip), " + ".join(without_strip)
        print("\n## Strips measured apart: the default formats with and without `strip`")
        print("(medians of the differences of runs made one after the other)")
        rows = []
        for jobs in (1, 2):
            for name, _ in trees:
                pairs = list(zip(runs[(with_s, jobs, name)], runs[(without, jobs, name)]))
                dw = statistics.median(a[0] - b[0] for a, b in pairs)
                dc = statistics.median(a[1] - b[1] for a, b in pairs)
                w1, c1 = results[(with_s, jobs, name)]
                rows.append([jobs, *label(name), f"{dw:.3f}", f"{100 * dw / w1:.0f}%",
                             f"{dc:.3f}", f"{100 * dc / c1:.0f}%"])
        table(["jobs", *label("tree"), "strips wall s", "of the gallery's wall",
               "strips CPU s", "of its CPU"], rows)
        print("\nWriting the 15 strips alone, in-process, from frames drawn beforehand:")
        rows = []
        strips = rows_of(trees, repeat, "strip_rows")
        for name, tree in trees:
            level = in_tree(tree, "strip_level")
            got = strips[name]
            rows.append([*label(name), level, f"{sum(r[2] for r in got):.0f}",
                         f"{sum(r[3] for r in got):.0f}", f"{sum(r[4] for r in got):,}"])
        table([*label("tree"), "zlib level", "wall ms", "CPU ms", "bytes"], rows)

    print("\n## Bytes and canvas per animation (default cell)")
    gifsicle = shutil.which("gifsicle")
    first = gifs[trees[0][0]]
    rows, tot, ref_tot, opt_tot = [], 0, 0, 0
    for name, size_b, canvas, frames, opt in first:
        _, ref_canvas, _, ref_b = CLASSIC[name]
        tot, ref_tot, opt_tot = tot + size_b, ref_tot + ref_b, opt_tot + (opt or 0)
        rows.append([name, frames, f"{canvas[0]}x{canvas[1]}", f"{ref_canvas[0]}x{ref_canvas[1]}",
                     size_b, ref_b, f"{size_b / ref_b:.2f}"]
                    + ([opt, f"{size_b / opt:.3f}"] if gifsicle else [])
                    + ([gifs[trees[1][0]][len(rows)][1]] if many else []))
    rows.append(["total", "", "", "", tot, ref_tot, f"{tot / ref_tot:.2f}"]
                + ([opt_tot, f"{tot / opt_tot:.3f}"] if gifsicle else [])
                + ([sum(r[1] for r in gifs[trees[1][0]])] if many else []))
    table(["name", "frames", "canvas", "ref canvas", "bytes", "ref bytes", "ratio"]
          + (["gifsicle -O3 bytes", "ours / gifsicle"] if gifsicle else [])
          + (["bytes before"] if many else []), rows)
    if not gifsicle:
        print("(gifsicle not installed: no `gifsicle -O3` column)")



def long_section(trees, repeat, quick, label) -> None:
    """One long render through the command line, with -j 1 and -j 2 (issue 15: a long GIF
    on every core) where the tree has -j, and its drawing and GIF writing apart."""
    long_runs = 1 if quick else repeat
    print(f"\n## A long render from the shell: `convanim {' '.join(LONG_RUN)}` (1,024 frames), "
          f"median of {long_runs}, -j 1 and -j 2 taking turns")
    jobs = {name: (["1", "2"] if has_jobs(tree) else [""]) for name, tree in trees}
    runs = {(name, j): [] for name, _ in trees for j in jobs[name]}
    with tempfile.TemporaryDirectory() as d:
        for _ in range(long_runs):
            for name, tree in trees:
                for j in jobs[name]:
                    args = LONG_RUN + (["-j", j] if j else []) + ["-o", "long.gif"]
                    runs[(name, j)].append(timed_cli(tree, args, d))
    rows = []
    for (name, j), got in runs.items():
        wall, cpu = median_pair(got)
        rows.append([*label(name), j or "-", f"{wall:.2f}", f"{cpu:.2f}",
                     f"{wall / 1024 * 1000:.1f}"])
    table([*label("tree"), "-j", "wall s", "CPU s", "ms a frame (wall)"], rows)
    print("\nThe same in-process: drawing the frames alone, then drawing and writing the GIF "
          "(process CPU s; the GIF writer's share is the difference)")
    split = rows_of(trees, long_runs, "long_split")
    table([*label("tree"), "drawing CPU s", "ms a frame", "drawing + GIF CPU s", "GIF CPU s"],
          [[*label(name), f"{d:.2f}", f"{d / n * 1000:.1f}", f"{g:.2f}", f"{g - d:.2f}"]
           for name, _ in trees for n, d, g in split[name]])


def per_frame_section(trees, repeat, quick, label) -> None:
    sizes = [4, 16, 32] if quick else [4, 8, 16, 32, 64]
    cases = [("iso", 32, sizes), ("iso", 8, sizes)] + [
        (kind, 32, [4, 16, 32]) for kind in ("flat", "numbers", "scatter")]
    for kind, cell, grid in cases:
        cmd = PER_FRAME[kind][0]
        print(f"\n## Per-frame cost vs grid size: `{cmd}`, --cell {cell}; first <= 60 frames")
        rows = []
        whole = kind != "iso"  # issue 15's rows: every frame counts, once each
        measured = rows_of(trees, repeat, "per_frame", kind, grid, cell, whole)
        for n_row in range(len(grid)):
            for name, _ in trees:
                i, n, canvas, first_ms, ms, bpf, *every = measured[name][n_row]
                base = measured[name][0][4]
                row = [i, *label(name), n, canvas, f"{first_ms:.1f}", f"{ms:.2f}",
                       f"{ms / base:.2f}", f"{bpf:.0f}"]
                if whole:
                    one = every[0] if every else None
                    base_all = (measured[name][0][6:] or [None])[0]
                    row += [_or_dash(one, "{:.2f}"),
                            _or_dash(one / base_all if one and base_all else None, "{:.2f}")]
                rows.append(row)
        table(["i", *label("tree"), "frames", "canvas", "first frame ms", "ms/frame after",
               f"x i={grid[0]}", "GIF bytes/frame"]
              + (["ms/frame, all frames (once)", f"x i={grid[0]}"] if whole else []), rows)



def channels_section(trees, repeat, label) -> None:
    """Channels (a tree without them has no rows)."""
    got = rows_of(trees, repeat, "channel_rows")
    print("\n## Channels: `conv --i 8 --k 3 --p 1`, --cell 32, flat and iso "
          "(issue 12's target: 3 maps and 4 filters within 2x of one map, a frame)")
    rows = []
    for name, _ in trees:
        base: dict[str, tuple[float, float]] = {}
        for style, n_, n, ms, *rest in got[name]:
            whole = rest[0] if rest else float("nan")  # an older tree's rows have no column
            base.setdefault(style, (ms, whole))  # the one-map row comes first
            rows.append([style, n_, *label(name), n, f"{whole:.2f}", f"{whole / base[style][1]:.2f}",
                         f"{ms:.2f}", f"{ms / base[style][0]:.2f}"])
    table(["style", "figure", *label("tree"), "frames", "ms/frame, all frames", "x one map",
           "ms/frame, first 60 (first filter)", "x one map"], rows)


def vector_section(trees, repeat, many) -> None:
    print("\n## Vector output of the classic set: animated SVG (whole animation), PDF (frame 1), "
          "the interactive page (-o fig.html, scene included)")
    vectors = rows_of(trees, repeat, "vector_rows")
    for name, tree in trees:
        vec = vectors[name]
        if many:
            print(f"\n{name}:")
        rows = [[n, frames, svg_b, f"{svg_ms:.0f}", f"{svg_ms / frames:.2f}", ref_b,
                 f"{svg_b / ref_b:.3f}", pdf_b, f"{pdf_ms:.0f}", _or_dash(html_b),
                 _or_dash(html_ms, "{:.0f}"), _or_dash(html_ms and html_ms / frames, "{:.2f}")]
                for n, svg_b, svg_ms, ref_b, pdf_b, pdf_ms, frames, html_b, html_ms in vec]
        frames = sum(r[6] for r in vec)
        svg_tot, ref_tot = sum(r[1] for r in vec), sum(r[3] for r in vec)
        svg_ms = sum(r[2] for r in vec)
        html_ok = all(r[7] is not None for r in vec)
        html_b = sum(r[7] for r in vec) if html_ok else None
        html_ms = sum(r[8] for r in vec) if html_ok else None
        rows.append(["total", frames, svg_tot, f"{svg_ms:.0f}", f"{svg_ms / frames:.2f}", ref_tot,
                     f"{svg_tot / ref_tot:.3f}", sum(r[4] for r in vec),
                     f"{sum(r[5] for r in vec):.0f}", _or_dash(html_b),
                     _or_dash(html_ms, "{:.0f}"), _or_dash(html_ms and html_ms / frames, "{:.2f}")])
        table(["name", "frames", "SVG bytes", "SVG ms", "SVG ms/frame", "ref GIF bytes",
               "SVG / ref", "PDF bytes", "PDF ms", "HTML bytes", "HTML ms", "HTML ms/frame"],
              rows)



def shell_section(trees, repeat, label) -> None:
    print("\n## One command from the shell")
    rows = []
    shell = {name: [] for name, _ in trees}
    for _ in range(repeat):  # the trees taking turns
        for name, tree in trees:
            shell[name].append(shell_time(tree, 1))
    for name, tree in trees:
        run_s, run_cpu, imp_s = (statistics.median(v) for v in zip(*shell[name]))
        rows.append(["convanim conv --i 5 --k 3 --s 2 --p 1", *label(name), f"{run_s:.3f}",
                     f"{run_cpu:.3f}"])
        rows.append(["python -c 'import convanim.cli'", *label(name), f"{imp_s:.3f}", ""])
    table(["what", *label("tree"), "wall s", "CPU s"], rows)


if __name__ == "__main__":
    main()
