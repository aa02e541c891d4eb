"""A short soak (bench/soak.py for 30 s of traffic, the last 20 s measured; make test-all): the real app with a training job
running and mixed traffic from three threads answers every request, and after a warm-up its open files,
threads and Gradio temp files stop growing. Resources are compared after the warm-up against the end; nothing
here depends on how fast the machine is."""

import pytest

FD_TOLERANCE = 10  # sockets and files open at one instant vary with the requests in flight
THREAD_TOLERANCE = 8  # the server's and the queue's worker pools grow and shrink with load
TEMP_FILE_TOLERANCE = 2  # every output was cached during the warm-up: nothing new should appear


@pytest.mark.slow
@pytest.mark.extended
def test_short_soak_has_no_errors_and_no_growth_after_warm_up():
    from bench.soak import markdown, soak

    figures = soak(seconds=30, threads=3, warmup_s=10)  # extended: no longer cut to fit make test
    report = markdown(figures)
    print(report)
    assert figures["errors"] == [], report
    assert all(e["requests"] > 0 for e in figures["endpoints"].values()), report
    warm, end = figures["warm"], figures["end"]
    assert end["fds"] - warm["fds"] <= FD_TOLERANCE, report
    assert end["threads"] - warm["threads"] <= THREAD_TOLERANCE, report
    assert end["temp_files"] - warm["temp_files"] <= TEMP_FILE_TOLERANCE, report
