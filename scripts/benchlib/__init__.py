"""The benchmark behind `scripts/bench.py` (its entry point; run that, not this package).

    workload     the generated trading day (deterministic, seeded)
    common       URLs, percentiles, results, bench-side timers, memory readings, worker processes
    write        the write half: batch append and single-append latency beside COPY / INSERT / eventsourcing
    write_paths  its paths: the ledger, raw psycopg, eventsourcing's default path
    read         the read half: history + snapshots, full replay beside the read references, as-of, live lag
    read_paths   its paths: generate, snapshots, raw / eventsourcing / ledger reads, as-of queries
    lag          live lag of project(follow=True): writer processes and the following projector
    profiling    cProfile of the replay and of state_hash, ranked by module and function
    render       the tables, the notes and the JSON document
"""
