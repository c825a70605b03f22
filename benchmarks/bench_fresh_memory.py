"""What the first touch of fresh memory costs on this machine (issue 20, item 5).

BADGE's factor pass writes its factors (about 2.4 GB at 1M × (513 + 100) float32)
into arrays it has just allocated; entropy's pass writes about a third as many
bytes. Where the machine hands out fresh memory slowly (a virtual machine that
gives freed memory back to its host), that first touch is a cost no code can
avoid without writing fewer bytes. This measures it: ``--gb`` gigabytes of
float32 are allocated and filled, then filled again (the same, already touched
pages), for a plain ``np.empty`` (NumPy asks for transparent huge pages itself)
and for an anonymous ``mmap`` advised ``MADV_HUGEPAGE``; ``--repeats`` times,
with a 3-second pause after each free. One JSON line per measurement: seconds of
the first fill and of the second, their ratio, the process's minor page faults
and system seconds during the first fill.

Run: ``python benchmarks/bench_fresh_memory.py`` (``--gb 2.4``).
"""

import argparse
import gc
import mmap
import resource
import time

import numpy as np

from _common import emit


def _plain(n):
    return np.empty(n, dtype=np.float32)


def _huge(n):
    m = mmap.mmap(-1, n * 4, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    m.madvise(mmap.MADV_HUGEPAGE)
    return np.frombuffer(m, dtype=np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=2.4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = int(args.gb * 1e9 / 4)
    for repeat in range(args.repeats):
        for name, allocate in (("np.empty", _plain), ("mmap+MADV_HUGEPAGE", _huge)):
            before = resource.getrusage(resource.RUSAGE_SELF)
            tic = time.perf_counter()
            a = allocate(n)
            a[:] = 1.0
            first = time.perf_counter() - tic
            after = resource.getrusage(resource.RUSAGE_SELF)
            tic = time.perf_counter()
            a[:] = 2.0
            second = time.perf_counter() - tic
            emit(benchmark="fresh_memory", allocation=name, repeat=repeat, gb=args.gb,
                 first_fill_s=round(first, 3), second_fill_s=round(second, 3),
                 first_over_second=round(first / second, 2),
                 minor_faults=after.ru_minflt - before.ru_minflt,
                 sys_s=round(after.ru_stime - before.ru_stime, 3))
            del a
            gc.collect()
            time.sleep(3)


if __name__ == "__main__":
    main()
