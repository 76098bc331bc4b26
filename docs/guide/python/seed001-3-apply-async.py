# Seed 001, "apply apply_async" (Python 2 in the seed: print statements and xrange made Python 3;
# the pool's work moved under `if __name__ == '__main__':`, which spawn needs).
import multiprocessing
import time
from random import randint, seed


def f(num):
    seed()
    rand_num = randint(0, 10)  # 每次都随机生成一个停顿时间
    time.sleep(rand_num)
    return (num, rand_num)


if __name__ == '__main__':
    start_time = time.time()
    cores = multiprocessing.cpu_count()
    pool = multiprocessing.Pool(processes=cores)
    pool_list = []
    result_list = []
    start_time = time.time()
    for xx in range(10):
        pool_list.append(pool.apply_async(f, (xx, )))  # 这里不能 get, 会阻塞进程
    result_list = [xx.get() for xx in pool_list]
    pool.close()
    pool.join()
    print(result_list)
    print('并行花费时间 %.2f' % (time.time() - start_time))
    print('串行花费时间 %.2f' % (sum([xx[1] for xx in result_list])))
