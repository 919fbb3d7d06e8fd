# `epoll` keeps the watched set in the kernel and a ready list that the kernel fills as events happen;
# `epoll.poll()` just takes the ready list. `select()` and `poll()` pass and check the whole set on
# every call. (BSD and macOS have `kqueue`, the same idea. Python's `selectors.DefaultSelector` picks
# the best one available.)
flat_one = "epoll"
