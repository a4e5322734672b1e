"""The command line: ``main`` maps every failure to one line and an exit status.

The commands live in :mod:`convanim.commands`; the ``gallery`` command is
added here, so the gallery (which parses its figures with those commands) and
the commands do not import each other: commands <- gallery <- cli. Errors in what the user gave end as one
line on stderr and exit status 2.
"""

from __future__ import annotations

import os
import shlex
import sys

import click

from .cli_options import CONTEXT, Whole, usage_hint
from .commands import JOBS, cli
from . import _is_command_line, signals, writer
from .escape import terminal
from .params import SpecError

__all__ = ["main", "cli", "JOBS"]


@cli.command(context_settings=CONTEXT)
@click.argument("spec_file", metavar="[SPEC]", required=False)
@click.option("-o", "--output-dir", default="gallery", show_default=True, metavar="DIR",
              help="Folder for the files, index.html, README.md and the manifest (created).")
@click.option("-j", "--jobs", type=Whole(min=1), metavar="N",
              help="Figures rendered in parallel; default: the machine's cores.")
@click.option("--only", metavar="NAME,NAME", help="Render only these figures of the spec.")
@click.option("--force", is_flag=True, help="Render every figure, even those up to date.")
@click.option("--list", "list_only", is_flag=True, help="List the figures and their parameters.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary; errors only.")
@click.option("--allow-outside-files", is_flag=True,
              help="Let the spec read data files outside its own folder (off: a spec from "
                   "someone else cannot read your files).")
def gallery(spec_file, output_dir, jobs, only, force, list_only, quiet,
            allow_outside_files) -> None:
    """Render a whole set of figures from one TOML spec (default: the built-in set).

    Figures whose spec and convanim version are unchanged since their files were
    written are skipped. Spec errors are all listed before anything renders (exit 2);
    a figure that fails to render does not stop the others (exit 1). Also writes
    index.html (pause and step through each animation) and README.md.

    \b
    Examples:
      convanim gallery                                  # the built-in set into ./gallery
      convanim gallery my_figures.toml -o site/figures -j 4
      convanim gallery --list
      convanim gallery --only padding_strides,dilation --force
    """
    from . import gallery as g  # here, not at the top: the other commands start without it
    try:
        entries = g.load(spec_file, allow_outside=allow_outside_files)
        names = {e.name for e in entries}
        chosen = None
        if only is not None:
            chosen = [n.strip() for n in only.split(",") if n.strip()]
            unknown = [n for n in chosen if n not in names]
            if unknown or not chosen:
                raise g.GalleryError([f"only: got {only!r}; unknown figure(s) "
                                      f"{', '.join(unknown) or '(none given)'}; "
                                      f"the spec has: {', '.join(e.name for e in entries)}"])
        if not list_only:
            writer.check_dir(output_dir, "output-dir")
    except SpecError as err:
        raise err from None
    except g.GalleryError as err:
        for message in err.messages:
            click.echo(f"convanim: error: {terminal(message)}", err=True)
        raise click.exceptions.Exit(2) from None
    if list_only:
        click.echo(g.listing([e for e in entries if chosen is None or e.name in chosen]))
        return

    def bar(total):
        return click.progressbar(length=total, label="rendering", show_eta=True, show_pos=True,
                                 item_show_func=lambda name: name or "", file=sys.stderr)

    spec_name = os.path.basename(spec_file) if spec_file else "gallery.toml"
    # The index's "regenerate" line: this run's spec and folder, every figure re-rendered.
    again = shlex.join(["python", "-m", "convanim", "gallery", *([spec_file] if spec_file else []),
                        "--force", "-o", output_dir])
    result = g.build(entries, output_dir, only=chosen, jobs=jobs, force=force,
                     spec_name=spec_name, progress=None if quiet else bar, command=again)
    for name, message in result.failed:
        click.echo(f"convanim: error: entry {name}: render failed: {terminal(message)}", err=True)
    if not quiet:
        click.echo(f"{len(result.rendered)} rendered, {len(result.skipped)} up to date, "
                   f"{len(result.failed)} failed -> {os.path.join(output_dir, g.INDEX)}")
    if result.failed:
        raise click.exceptions.Exit(1)


def _fail(message: str) -> int:
    # One line whatever the message quotes (click echoes values as given).
    click.echo(f"convanim: error: {terminal(message)}", err=True)
    return 2


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning failures into one line and a status.

    0 done; 2 a usage error (nothing written); 1 a failure while working, e.g. a
    full disk (nothing written either; CONVANIM_DEBUG=1 shows the traceback);
    130, 143, 129 stopped by SIGINT (Ctrl-C), SIGTERM, SIGHUP: quietly, cleaned up.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if not args:  # bare `convanim`: the help, not an error
        args = ["--help"]
    restore = signals.install()
    status = _run(args)
    if signals.stopped():
        # Stopping anyway: a signal that follows is ignored, not left to the default
        # handlers that Python puts back while it shuts down (they would kill it mid-exit).
        signals.ignore()
    else:
        restore()
    status = status if isinstance(status, int) else 0
    if argv is None and _is_command_line():
        _exit_now(status)
    sys.exit(status)


def _exit_now(status: int) -> None:
    """End the ``convanim`` process at once, its work done: every file is written,
    closed and renamed by now, every worker joined. Python's own exit would then free
    each object and module one by one (measured: about 0.1 s after a gallery, a tenth of
    it). Returns, for the usual exit, when stdout or stderr cannot be flushed (a closed
    pipe): Python reports that its own way."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(status)


def _run(args: list[str]) -> int:
    try:
        status = cli.main(args=args, prog_name="convanim", standalone_mode=False)
    except SpecError as err:
        status = _fail(str(err))
    except click.UsageError as err:
        hint = f" (see '{err.ctx.command_path} --help')" if err.ctx else ""
        status = _fail((usage_hint(err, args) or err.format_message()) + hint)
    except click.ClickException as err:
        err.show()
        status = err.exit_code
    except KeyboardInterrupt as err:  # signals.Interrupted too
        status = signals.exit_status(err)
    except click.Abort as err:  # click wraps a KeyboardInterrupt raised in a command
        cause = err.__cause__ or err.__context__
        status = signals.exit_status(cause) if isinstance(cause, KeyboardInterrupt) else 130
    except OSError as err:
        if os.environ.get("CONVANIM_DEBUG"):
            raise
        where = f" {str(writer.target_of(err.filename))!r}" if getattr(err, "filename", None) else ""
        click.echo(f"convanim: error: cannot write{where}: {err.strerror or err}", err=True)
        status = 1
    except Exception as err:  # a bug: still one line, and a way to see more
        if os.environ.get("CONVANIM_DEBUG"):
            raise
        click.echo(f"convanim: internal error: {err.__class__.__name__}: {terminal(err)} "
                   "(run with CONVANIM_DEBUG=1 for the traceback)", err=True)
        status = 1
    return status
