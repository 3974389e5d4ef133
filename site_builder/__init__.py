"""site-builder: a static site generator for AI-news digests."""

import os

# A build spreads its work over processes, one per core.  numpy's BLAS (language detection multiplies
# small matrices) would start a thread per core in each of them, and its idle threads spin: at 10k items
# that was 3 CPU-seconds more and a build twice as slow.  Set before anything imports numpy; a value the
# user set wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

# numpy asks the kernel for huge pages for every array of 4 MB or more.  On the 2-core virtual machine
# we measure on, a build that got them ran its deduplication either 10 % faster or 60 % slower, at random
# and often slower (same page faults, no compaction: we did not find out why); without them it takes the
# same time every run (10k items: 0.61 s median of 5 on disk, 0.41 s without).  Set before numpy is
# imported, as above; the user's value wins.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
