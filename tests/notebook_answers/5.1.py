# The kernel's terminal driver holds `hel` until the line is finished, so that you can still erase it.
readable_after_hel = False
