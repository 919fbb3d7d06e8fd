"""Traces of the event loop: record each step, keep it, read it back, see it.

One module per job:

* :mod:`.recorder` -- :class:`Recorder`, the observer the loop and the server
  call at every step (a ring buffer in memory, a JSON Lines file written by
  :mod:`.writer` in a child process);
* :mod:`.reading` -- :func:`load`/:func:`loads` a file into a :class:`Trace`;
  :class:`Names` follows what each descriptor was called;
* :mod:`.analyses` -- numbers: :func:`utilisation`, :func:`per_descriptor`,
  :func:`ready_sizes`, :func:`latencies`; :mod:`.passes` cuts a trace into
  the loop's passes;
* :mod:`.mistakes` -- :func:`find_mistakes`: busy loop, EOF ignored,
  blocking call, stall, near FD_SETSIZE;
* :mod:`.summary` -- :func:`summarize`: all of it as text;
* :mod:`.export` -- :func:`to_chrome`, for Perfetto and chrome://tracing;
* :mod:`.plot` (matplotlib) and :mod:`.stepper` (ipywidgets) -- pictures, in
  the optional extras: ``from selectchat.trace import plot``; :func:`step_through`
  is here, and imports ipywidgets only when called;
* :mod:`.cli` -- ``selectchat trace summary|plot|export``.

The format is in ``docs/trace-format.md``; how to use it, ``docs/tracing.md``.
"""

from .analyses import (Delivery, Descriptor, Latencies, ReadySizes, Utilisation, lane_labels, latencies,
                       per_descriptor, ready_sizes, utilisation, utilisation_bins)
from .export import FD_TID_BASE, LOOP_TID, to_chrome
from .mistakes import Mistake, find_mistakes, format_mistakes
from .passes import Pass, passes
from .reading import Names, Trace, TraceError, load, loads
from .recorder import Recorder
from .stepper import Stepper, step_through
from .summary import Summary, format_summary, summarize
from .writer import FORMAT, VERSION, to_dict, write_json

__all__ = ["FORMAT", "VERSION", "Recorder", "Trace", "TraceError", "Names", "load", "loads",
           "Utilisation", "Descriptor", "ReadySizes", "Delivery", "Latencies", "utilisation",
           "utilisation_bins", "per_descriptor", "ready_sizes", "latencies", "lane_labels",
           "Pass", "passes", "Mistake", "find_mistakes", "format_mistakes",
           "Summary", "summarize", "format_summary", "to_chrome", "LOOP_TID", "FD_TID_BASE",
           "Stepper", "step_through",
           "to_dict", "write_json"]
