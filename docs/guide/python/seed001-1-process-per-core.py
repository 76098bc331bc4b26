# Seed 001, "The Process class" (Python 2 in the seed: print statements and xrange made Python 3).
from multiprocessing import Process, cpu_count
import os
import time

start_time = time.time()


def info(title):
    if hasattr(os, 'getppid'):  # only available on Unix
        print('parent process:', os.getppid())
    print('process id:', os.getpid())
    time.sleep(3)


def f(name):
    info('function f')
    print('hello', name)


if __name__ == '__main__':
    p_list = []  # 保存Process新建的进程
    cpu_num = cpu_count()
    for xx in range(cpu_num):
        p_list.append(Process(target=f, args=('xx_%s' % xx,)))
    for xx in p_list:
        xx.start()
    for xx in p_list:
        xx.join()
    print('spend time: %.2f' % (time.time() - start_time))
