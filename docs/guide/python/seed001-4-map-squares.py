# Seed 001, "map map_async" (Python 2 in the seed: print statements made Python 3).
import time
from multiprocessing import Pool


def run(fn):
    # fn: 函数参数是数据列表的一个元素
    time.sleep(1)
    return fn * fn


if __name__ == "__main__":
    testFL = [1, 2, 3, 4, 5, 6]
    print('串行:')  # 顺序执行(也就是串行执行,单进程)
    s = time.time()
    for fn in testFL:
        run(fn)
    e1 = time.time()
    print("顺序执行时间:", int(e1 - s))
    print('并行:')  # 创建多个进程,并行执行
    pool = Pool(4)
    rl = pool.map(run, testFL)
    pool.close()
    pool.join()
    e2 = time.time()
    print("并行执行时间:", int(e2 - e1))
    print(rl)
