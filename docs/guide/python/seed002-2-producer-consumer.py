# Seed 002, "producer - consumer" (the seed forgot `import random`).
import multiprocessing
import random


def producer(numbers, q):
    for x in numbers:
        if x % 2 == 0:
            if q.full():
                print("queue is full")
                break
            q.put(x)
            print(f"put {x} in queue by producer")
    return None


def consumer(q):
    while not q.empty():
        print(f"take data {q.get()} from queue by consumer")
    return None


if __name__ == "__main__":
    qu = multiprocessing.Queue(maxsize=5,)
    p5 = multiprocessing.Process(
        name="producer-1",
        target=producer,
        args=([random.randint(1, 100) for i in range(0, 10)], qu)
    )
    p5.start()
    p5.join()
    p6 = multiprocessing.Process(
        name="consumer-1",
        target=consumer,
        args=(qu,)
    )
    p6.start()
    p6.join()

    print(qu.qsize())
