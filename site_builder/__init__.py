"""site-builder: a static site generator for AI-news digests."""

import os

# A build spreads its work over processes, one per core.  numpy's BLAS (language detection multiplies
# small matrices) would start a thread per core in each of them, and its idle threads spin: at 10k items
# that was 3 CPU-seconds more and a build twice as slow.  Set before anything imports numpy; a value the
# user set wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
