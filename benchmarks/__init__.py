"""asv benchmarks of hybridbench (``benchmark_dir`` in asv.conf.json)."""
