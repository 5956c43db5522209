"""Stress workloads: golden results and detection from outputs only.

Each module holds the pure functions of one workload: the inputs, the
expected (golden) result, the output format the simulated wafer returns and
the detection function that turns outputs into findings. None of them reads
the fault truth.
"""
