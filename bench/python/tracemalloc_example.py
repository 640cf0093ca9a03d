# The program that examples/tracemalloc.mjs ports, in its original Python, with the skeleton of
# the tracemalloc documentation's "Compute differences" example: start tracing, take a snapshot,
# run the code that allocates (100 lists of 100 objects, each holding 100 random bytes), take a
# second snapshot, compare_to(..., 'lineno') and print the top 10 differences.
#
# Run as the documentation does:   python3 bench/python/tracemalloc_example.py
# Timed by bench/tracemalloc-compare.mjs as:
#   python3 bench/python/tracemalloc_example.py --frames=off|1|25 --repeat=N --json
# --repeat runs the allocating part N times (each run's lists replace the previous run's) so that
# the interpreter's start-up does not dominate; --frames=off times the same work without tracing;
# --json prints one line of timings (time.perf_counter(), inside the program) instead of the top 10.
import os
import sys
import time
import tracemalloc


class MyObject:
    def __init__(self):
        self.data = os.urandom(100)


def get_data():
    values = []
    for _ in range(100):
        values.append(MyObject())
    return values


def run():
    data = []
    for _ in range(100):
        data.append(get_data())
    return data


def main(argv):
    args = dict(arg[2:].split('=', 1) if '=' in arg else (arg[2:], '1') for arg in argv)
    frames = args.get('frames', '1')
    repeat = int(args.get('repeat', '1'))
    as_json = 'json' in args

    if frames != 'off':
        tracemalloc.start(int(frames))

    started = time.perf_counter()
    snapshot1 = tracemalloc.take_snapshot() if frames != 'off' else None
    workload_started = time.perf_counter()
    data = None
    for _ in range(repeat):
        data = run()
    workload_seconds = time.perf_counter() - workload_started
    top_stats = []
    if frames != 'off':
        snapshot2 = tracemalloc.take_snapshot()
        top_stats = snapshot2.compare_to(snapshot1, 'lineno')
    total_seconds = time.perf_counter() - started

    if as_json:
        print('{"workloadSeconds": %.6f, "totalSeconds": %.6f, "lists": %d, "python": "%s"}'
              % (workload_seconds, total_seconds, len(data), sys.version.split()[0]))
        return
    print("[ Top 10 differences ]")
    for stat in top_stats[:10]:
        print(stat)


if __name__ == '__main__':
    main(sys.argv[1:])
